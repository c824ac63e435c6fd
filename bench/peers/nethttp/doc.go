// Command nethttp is the net/http peer: hello and POST echo on the standard library server,
// the baseline every HTTP/1.1 figure is divided by.
package main
