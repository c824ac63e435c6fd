// Package idleconn opens many connections that each complete one exchange (an HTTP/1.1
// request, an HTTP/2 request on a fresh connection, or a WebSocket handshake) and then stay
// idle, so that a server's resident memory per idle connection can be measured.
//
// Open and Check are safe for concurrent use on different Sets; a Set is owned by one
// goroutine.
package idleconn
