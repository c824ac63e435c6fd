// Command hertz is the cloudwego/hertz peer: hello and POST echo on the netpoll transport.
package main
