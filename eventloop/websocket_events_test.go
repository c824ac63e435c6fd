package eventloop

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/asgo-dev/asgo/apps/wsecho"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// WebSocketHandler serves /ws and /chat, and the /ev/... paths, in event mode.
func (a *wsTestApp) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	switch p := scope.Path; {
	case p == "/ws":
		a.wsCalls.Add(1)
		return wsecho.Echo{}.WebSocketHandler(scope)
	case p == "/chat":
		a.wsCalls.Add(1)
		return a.room.WebSocketHandler(scope)
	case strings.HasPrefix(p, "/ev/"):
		a.wsCalls.Add(1)
		return &eventTestHandler{app: a, path: p}
	}
	return nil
}

// eventTestHandler is one connection of an /ev/... path.
type eventTestHandler struct {
	app  *wsTestApp
	path string
}

var errEventTest = errors.New("handler failed on purpose")

func (h *eventTestHandler) HandleWebSocket(msg asgi.Message, send asgi.WebSocketSender) error {
	if d, ok := msg.(*asgi.WebSocketDisconnect); ok {
		h.app.disconnects <- *d
		if h.path == "/ev/record" {
			h.app.sendErrs <- send.SendNow(&asgi.WebSocketSend{Data: []byte("late")})
		}
		return nil
	}
	if _, ok := msg.(*asgi.WebSocketConnect); ok {
		switch h.path {
		case "/ev/deny":
			return send.SendNow(&asgi.WebSocketClose{})
		case "/ev/noaccept":
			return nil
		case "/ev/failconnect":
			return errEventTest
		case "/ev/push":
			if err := send.SendNow(&asgi.WebSocketAccept{}); err != nil {
				return err
			}
			go h.push(send)
			return nil
		}
		return send.SendNow(&asgi.WebSocketAccept{})
	}
	switch h.path {
	case "/ev/fail":
		return errEventTest
	case "/ev/panic":
		panic("boom")
	case "/ev/close4000":
		return send.SendNow(&asgi.WebSocketClose{Code: 4000, Reason: "app says bye"})
	}
	return nil
}

// push sends 64 KiB messages from another goroutine until SendNow refuses one, and
// reports how much it queued and why it stopped; then it waits for the disconnect
// and reports what SendNow says after it.
func (h *eventTestHandler) push(send asgi.WebSocketSender) {
	chunk := bytes.Repeat([]byte{'p'}, 64<<10)
	total := 0
	for {
		err := send.SendNow(&asgi.WebSocketSend{Data: chunk})
		if err != nil {
			h.app.sent <- total
			h.app.sendErrs <- err
			return
		}
		total += len(chunk)
	}
}

func TestWebSocketEventHandshake(t *testing.T) {
	ts, app := startWSServer(t, Config{WebSocket: websocket.Config{HandshakeTimeout: 200 * time.Millisecond}})
	t.Run("close before accept is 403", func(t *testing.T) {
		if resp := wsRefused(t, ts, "/ev/deny"); resp.StatusCode != 403 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		<-app.disconnects
	})
	t.Run("error before accept is 500", func(t *testing.T) {
		if resp := wsRefused(t, ts, "/ev/failconnect"); resp.StatusCode != 500 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		<-app.disconnects
		if !strings.Contains(ts.logs.String(), errEventTest.Error()) {
			t.Fatal("the handler's error was not logged")
		}
	})
	t.Run("no answer times out with 500", func(t *testing.T) {
		if resp := wsRefused(t, ts, "/ev/noaccept"); resp.StatusCode != 500 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if d := <-app.disconnects; d.Code != 1006 {
			t.Fatalf("disconnect %+v", d)
		}
	})
}

// wsRefused sends an upgrade request that the app refuses and returns the answer.
func wsRefused(t *testing.T, ts *testServer, path string) *http.Response {
	t.Helper()
	c := wsHandshake(t, ts, path)
	c.expectEOF()
	return c.resp
}

func TestWebSocketEventFailures(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	for _, path := range []string{"/ev/fail", "/ev/panic"} {
		t.Run(path, func(t *testing.T) {
			c := dialWS(t, ts, path)
			c.text("x")
			c.expectClose(1011)
			if d := <-app.disconnects; d.Code != 1011 {
				t.Fatalf("disconnect %+v", d)
			}
		})
	}
	// The loop survived both: other connections are served.
	c := dialWS(t, ts, "/ws")
	c.text("still here")
	c.expectMessage(ws.OpText, []byte("still here"))
}

func TestWebSocketEventDisconnect(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	t.Run("peer close code", func(t *testing.T) {
		c := dialWS(t, ts, "/ev/record")
		c.close(4001, "bye")
		c.expectClose(4001)
		if d := <-app.disconnects; d.Code != 4001 || d.Reason != "bye" {
			t.Fatalf("disconnect %+v", d)
		}
		if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
			t.Fatalf("send after disconnect: %v", err)
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		c := dialWS(t, ts, "/ev/record")
		c.c.Close()
		if d := <-app.disconnects; d.Code != 1006 {
			t.Fatalf("disconnect %+v", d)
		}
		<-app.sendErrs
	})
	t.Run("app close", func(t *testing.T) {
		c := dialWS(t, ts, "/ev/close4000")
		c.text("close please")
		if got := c.expectClose(4000); got != "app says bye" {
			t.Fatalf("reason %q", got)
		}
		if d := <-app.disconnects; d.Code != 4000 {
			t.Fatalf("disconnect %+v", d)
		}
	})
}

// TestWebSocketEventBackpressure: sends from another goroutine to a client that does
// not read are refused with asgi.ErrBackpressure near the high-water mark instead of
// growing the server's memory; after the client left they fail with ErrDisconnected.
func TestWebSocketEventBackpressure(t *testing.T) {
	ts, app := startWSServer(t, Config{WriteHighWater: 256 << 10})
	c := dialWS(t, ts, "/ev/push")
	if tc, ok := c.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	var queued int
	select {
	case queued = <-app.sent:
	case <-time.After(10 * time.Second):
		t.Fatal("sends to a client that does not read were never refused")
	}
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrBackpressure) {
		t.Fatalf("refused with %v", err)
	}
	if queued > 16<<20 {
		t.Fatalf("%d bytes queued for a client that does not read", queued)
	}
	c.c.Close()
	if d := <-app.disconnects; d.Code != 1006 {
		t.Fatalf("disconnect %+v", d)
	}
}

// TestWebSocketEventChatSlowMember: in event mode a member that stops reading is
// closed with 1008 once its connection holds too much unsent output, and the others
// keep receiving every message.
func TestWebSocketEventChatSlowMember(t *testing.T) {
	ts, _ := startWSServer(t, Config{WriteHighWater: 256 << 10})
	fast, slow := dialWS(t, ts, "/chat"), dialWS(t, ts, "/chat")
	if tc, ok := slow.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	msg := bytes.Repeat([]byte{'m'}, 64<<10)
	const n = 256 // 16 MiB: more than the kernel buffers and the high-water mark
	for i := 0; i < n; i++ {
		fast.binary(msg)
		fast.expectMessage(ws.OpBinary, msg)
	}
	got := 0
	for {
		f := slow.read()
		if f.Header.OpCode == ws.OpClose {
			if code := int(f.Payload[0])<<8 | int(f.Payload[1]); code != 1008 {
				t.Fatalf("slow member closed with %d", code)
			}
			break
		}
		got++
	}
	if got >= n {
		t.Fatalf("slow member received all %d messages and was not closed", got)
	}
}
