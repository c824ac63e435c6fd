package eventloop

import "asgo/protocol/h1"

// startWebSocket takes over a WebSocket upgrade request; false serves it as plain HTTP.
func (h *h1Conn) startWebSocket(c *conn, req *h1.Request) bool { return false }
