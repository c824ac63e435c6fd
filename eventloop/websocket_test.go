package eventloop

import (
	"testing"

	"github.com/gobwas/ws"
)

func TestWebSocketEchoBasic(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	c := dialWS(t, ts, "/ws")
	c.text("hello")
	c.expectMessage(ws.OpText, []byte("hello"))
	c.binary([]byte{0, 1, 2})
	c.expectMessage(ws.OpBinary, []byte{0, 1, 2})
	c.close(1000, "bye")
	c.expectClose(1000)
}
