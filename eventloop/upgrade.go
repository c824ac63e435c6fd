package eventloop

import (
	"asgo/protocol/asgi"
	"asgo/protocol/h1"
)

// isWebSocketUpgrade reports whether req asks to switch to WebSocket.
func (h *h1Conn) isWebSocketUpgrade(req *h1.Request) bool {
	return asgi.EqualFold(req.Upgrade, "websocket")
}
