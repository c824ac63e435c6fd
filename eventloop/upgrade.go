package eventloop

import (
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
)

// isWebSocketUpgrade reports whether req asks to switch to WebSocket.
func (h *h1Conn) isWebSocketUpgrade(req *h1.Request) bool {
	return asgi.EqualFold(req.Upgrade, "websocket")
}
