package eventloop

import "asgo/protocol/h1"

// startsHTTP2 switches a new connection that opens with the HTTP/2 preface to HTTP/2.
func (h *h1Conn) startsHTTP2(c *conn, data []byte) bool { return false }

// isH2CUpgrade reports whether req asks for Upgrade: h2c.
func (h *h1Conn) isH2CUpgrade(req *h1.Request) bool { return false }

// startH2CUpgrade switches to HTTP/2 after answering 101 to an Upgrade: h2c request.
func (h *h1Conn) startH2CUpgrade(c *conn, req *h1.Request) bool { return false }
