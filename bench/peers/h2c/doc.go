// Command h2c is the HTTP/2 peer: net/http with golang.org/x/net/http2/h2c, serving hello and
// POST echo over cleartext HTTP/2 with prior knowledge (and HTTP/1.1 on the same port).
package main
