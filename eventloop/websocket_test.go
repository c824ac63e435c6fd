package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
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

func TestWebSocketHandshakeRefusals(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{AllowedOrigins: []string{"https://good.example"}}})
	tests := []struct {
		name   string
		raw    string
		status int
		header string // "Name: value" expected in the response
	}{
		{"version 8", strings.Replace(wsUpgradeRequest("/ws"), "Version: 13", "Version: 8", 1), 426, "Sec-Websocket-Version: 13"},
		{"bad key", strings.Replace(wsUpgradeRequest("/ws"), wsTestKey, "short", 1), 400, ""},
		{"foreign origin", wsUpgradeRequest("/ws", "Origin: https://evil.example"), 403, ""},
		{"POST", strings.Replace(wsUpgradeRequest("/ws"), "GET", "POST", 1), 400, ""},
		{"body", strings.Replace(wsUpgradeRequest("/ws"), "Host: test\r\n", "Host: test\r\nContent-Length: 2\r\n", 1) + "xx", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial(t)
			resp := roundTrip(t, c, bufio.NewReader(c), tt.raw, "GET")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if name, value, ok := strings.Cut(tt.header, ": "); ok && resp.Header.Get(name) != value {
				t.Fatalf("header %s = %q", name, resp.Header.Get(name))
			}
		})
	}
	dialWS(t, ts, "/ws", "Origin: https://good.example").close(1000, "")
}

func TestWebSocketAppRefusals(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/deny", 403, ""},
		{"/denial", 401, "no entry"},
		{"/noaccept", 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := wsHandshake(t, ts, tt.path)
			if c.resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", c.resp.StatusCode, tt.status)
			}
			if b := body(t, c.resp); tt.body != "" && b != tt.body {
				t.Fatalf("body %q", b)
			}
			if tt.status == 401 && c.resp.Header.Get("Www-Authenticate") != "Bearer" {
				t.Fatalf("denial headers %v", c.resp.Header)
			}
			c.expectEOF()
		})
	}
}

func TestWebSocketScopeAndSubprotocol(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	c := dialWS(t, ts, "/proto?a=1", "Sec-WebSocket-Protocol: chat, v2.chat")
	if c.resp.Header.Get("Sec-WebSocket-Protocol") != "v2.chat" || c.resp.Header.Get("X-Chosen") != "v2.chat" {
		t.Fatalf("response headers %v", c.resp.Header)
	}
	c.expectMessage(ws.OpText, []byte("/proto?a=1"))
	c.expectClose(1000) // the app returned
}

func TestWebSocketAppEndings(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	t.Run("panic closes 1011", func(t *testing.T) { dialWS(t, ts, "/panic").expectClose(1011) })
	t.Run("return closes 1000", func(t *testing.T) { dialWS(t, ts, "/return").expectClose(1000) })
	t.Run("app close code and reason", func(t *testing.T) {
		c := dialWS(t, ts, "/close4000")
		f := c.read()
		if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 4000 || string(f.Payload[2:]) != "app says bye" {
			t.Fatalf("close frame %x", f.Payload)
		}
		c.close(4000, "")
		c.expectEOF()
		if d := <-app.disconnects; d.Code != 4000 {
			t.Fatalf("disconnect %+v", d)
		}
	})
}

func TestWebSocketDisconnectCodes(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	c := dialWS(t, ts, "/record")
	c.close(1001, "going")
	c.expectClose(1001)
	if d := <-app.disconnects; d.Code != 1001 || d.Reason != "going" {
		t.Fatalf("disconnect %+v", d)
	}
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
		t.Fatalf("send after disconnect: %v", err)
	}
	c = dialWS(t, ts, "/record")
	c.c.Close() // dropped without a close frame
	if d := <-app.disconnects; d.Code != 1006 {
		t.Fatalf("disconnect after drop %+v", d)
	}
	<-app.sendErrs
}

// TestWebSocketSendBackpressure: a client that does not read makes the app's send
// block near the high-water mark instead of growing the server's memory.
func TestWebSocketSendBackpressure(t *testing.T) {
	ts, app := startWSServer(t, Config{WriteHighWater: 256 << 10})
	c := dialWS(t, ts, "/flood")
	if tc, ok := c.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	// The scenario, not synchronisation: the client reads nothing for 500 ms, time for a
	// send that did not block to queue far more than the bound below. (/flood reports
	// only every MiB, too coarse to wait for the send to stall.)
	time.Sleep(500 * time.Millisecond)
	var queued int
	for drained := false; !drained; {
		select {
		case queued = <-app.sent:
		default:
			drained = true
		}
	}
	// Kernel buffers on both sides plus the high-water mark: a few MiB at most.
	if queued > 16<<20 {
		t.Fatalf("app queued %d bytes to a client that does not read", queued)
	}
	c.c.Close()
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) && !errors.Is(err, context.Canceled) {
		t.Fatalf("blocked send ended with %v", err)
	}
}

func TestWebSocketKeepalive(t *testing.T) {
	patient, _ := startWSServer(t, Config{WebSocket: websocket.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 5 * time.Second}})
	strict, _ := startWSServer(t, Config{WebSocket: websocket.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond}})
	t.Run("answered pings keep it open", func(t *testing.T) {
		c := dialWS(t, patient, "/ws")
		for range 3 {
			f := c.read()
			if f.Header.OpCode != ws.OpPing {
				t.Fatalf("got %v, want ping", f.Header.OpCode)
			}
			c.frame(ws.OpPong, true, f.Payload)
		}
		c.text("still here")
		for {
			f := c.read()
			if f.Header.OpCode == ws.OpText {
				break
			}
			c.frame(ws.OpPong, true, f.Payload)
		}
	})
	t.Run("unanswered ping closes 1011", func(t *testing.T) {
		c := dialWS(t, strict, "/ws")
		if f := c.read(); f.Header.OpCode != ws.OpPing {
			t.Fatalf("got %v, want ping", f.Header.OpCode)
		}
		c.expectClose(1011)
	})
}

func TestWebSocketCloseTimeout(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{CloseTimeout: 100 * time.Millisecond}})
	c := dialWS(t, ts, "/return")
	start := time.Now()
	f := c.read() // the server's close; this client never answers it
	if f.Header.OpCode != ws.OpClose {
		t.Fatalf("got %v", f.Header.OpCode)
	}
	c.expectEOF()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestWebSocketGracefulShutdown(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	clients := []*wsClient{dialWS(t, ts, "/ws"), dialWS(t, ts, "/chat")}
	clients[0].text("x")
	clients[0].expectMessage(ws.OpText, []byte("x"))
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	for _, c := range clients {
		f := c.read()
		if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 1001 {
			t.Fatalf("got %v %x, want close 1001", f.Header.OpCode, f.Payload)
		}
		c.close(1001, "")
		c.expectEOF()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not finish after the closing handshakes")
	}
}

// TestWebSocketInboundFloodIsBounded: a client flooding an app that never reads fills
// the inbox, then the server stops reading; once the unread input passes the limit
// the connection is closed with 1008 instead of buffering without bound.
func TestWebSocketInboundFloodIsBounded(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxMessageSize: 256 << 10, MaxQueuedMessages: 4}})
	c := dialWS(t, ts, "/sleepy")
	msg := frameBytes(ws.OpBinary, true, 0, make([]byte, 32<<10), true)
	go func() {
		for range 64 {
			if _, err := c.c.Write(msg); err != nil {
				return
			}
		}
	}()
	c.expectClose(1008)
}

func TestWebSocketCompressionOffByConfig(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{DisableCompression: true}})
	c := dialWS(t, ts, "/ws", "Sec-WebSocket-Extensions: permessage-deflate")
	if ext := c.resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("extension negotiated: %q", ext)
	}
	c.writeRaw(frameBytes(ws.OpText, true, 4, []byte("x"), true))
	c.expectClose(1002)
}

// TestWebSocketChatBroadcast: members in event mode (/chat) and through ServeASGI
// (/chat-goroutine) share one room.
func TestWebSocketChatBroadcast(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	a, b := dialWS(t, ts, "/chat"), dialWS(t, ts, "/chat-goroutine")
	a.text("hi all")
	a.expectMessage(ws.OpText, []byte("hi all"))
	b.expectMessage(ws.OpText, []byte("hi all"))
	b.binary([]byte{7})
	a.expectMessage(ws.OpBinary, []byte{7})
	b.expectMessage(ws.OpBinary, []byte{7})
}

// TestWebSocketLargeMessageLinear sends a 32 MiB message in small writes through the
// real server and back: the frame reader consumes input as it arrives, so the cost is
// linear (a parser that re-scans its growing input would take minutes here).
func TestWebSocketLargeMessageLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 64 MiB")
	}
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxMessageSize: 32 << 20}})
	c := dialWS(t, ts, "/ws")
	size := 32 << 20
	if raceEnabled {
		size = 8 << 20
	}
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	start := time.Now()
	go func() { // writes from another goroutine must not call t.Fatal
		in := frameBytes(ws.OpBinary, true, 0, payload, true)
		for off := 0; off < len(in); off += 16 << 10 {
			if _, err := c.c.Write(in[off:min(off+16<<10, len(in))]); err != nil {
				return
			}
		}
	}()
	c.expectMessage(ws.OpBinary, payload)
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("%d MiB round trip took %v", size>>20, d)
	} else {
		t.Logf("%d MiB message echoed in %v", size>>20, d)
	}
}

func TestWebSocketContractErrors(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	c := wsHandshake(t, ts, "/badproto", "Sec-WebSocket-Protocol: chat")
	if c.resp.StatusCode != 500 || !asgi.IsContractError(<-app.sendErrs) {
		t.Fatalf("unoffered subprotocol: status %d", c.resp.StatusCode)
	}
	c = dialWS(t, ts, "/badtext")
	if err := <-app.sendErrs; !asgi.IsContractError(err) {
		t.Fatalf("invalid UTF-8 text: %v", err)
	}
	c.expectClose(1011)
}

// TestWebSocketHandshakeTimeout: an app that never answers websocket.connect does not
// hold the connection: after HandshakeTimeout the client gets a 500, the app sees
// websocket.disconnect and its late accept fails.
func TestWebSocketHandshakeTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ts, app := startWSServer(t, Config{WebSocket: websocket.Config{HandshakeTimeout: timeout}})
	t.Run("no answer gives 500", func(t *testing.T) {
		start := time.Now()
		c := wsHandshake(t, ts, "/stuck")
		took := time.Since(start)
		if c.resp.StatusCode != 500 {
			t.Fatalf("status %d, want 500", c.resp.StatusCode)
		}
		if took < timeout || took > 3*time.Second {
			t.Fatalf("answered after %v, want about %v", took, timeout)
		}
		c.expectEOF()
		if d := <-app.disconnects; d.Code != websocket.CloseAbnormal {
			t.Fatalf("app saw %+v, want websocket.disconnect 1006", d)
		}
		if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
			t.Fatalf("late accept: %v, want asgi.ErrDisconnected", err)
		}
	})
	t.Run("stalled denial is aborted", func(t *testing.T) {
		start := time.Now()
		c := wsHandshake(t, ts, "/stuckdenial")
		if c.resp.StatusCode != 401 {
			t.Fatalf("status %d, want the app's 401", c.resp.StatusCode)
		}
		if b, err := io.ReadAll(c.resp.Body); err == nil {
			t.Fatalf("denial body %q ended cleanly; want the connection aborted", b)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("aborted after %v", took)
		}
		if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
			t.Fatalf("send after the abort: %v, want asgi.ErrDisconnected", err)
		}
	})
	t.Run("answer in time is unaffected", func(t *testing.T) {
		c := dialWS(t, ts, "/ws")
		time.Sleep(2 * timeout) // past the handshake budget: the open connection stays
		c.text("still open")
		c.expectMessage(ws.OpText, []byte("still open"))
	})
}

// TestWebSocketLimitConcurrency: an open WebSocket counts toward LimitConcurrency until
// it closes; an upgrade beyond the limit gets 503 before the app sees it, and so does
// a plain request.
func TestWebSocketLimitConcurrency(t *testing.T) {
	ts, app := startWSServer(t, Config{LimitConcurrency: 1})
	first := dialWS(t, ts, "/ws")
	t.Run("upgrade beyond the limit gets 503", func(t *testing.T) {
		calls := app.wsCalls.Load()
		c := wsHandshake(t, ts, "/ws")
		if c.resp.StatusCode != 503 {
			t.Fatalf("status %d, want 503", c.resp.StatusCode)
		}
		c.expectEOF()
		if n := app.wsCalls.Load(); n != calls {
			t.Fatalf("the app saw %d refused upgrades", n-calls)
		}
	})
	t.Run("an open WebSocket counts for HTTP requests", func(t *testing.T) {
		c := ts.dial(t)
		resp := roundTrip(t, c, bufio.NewReader(c), "GET /plain HTTP/1.1\r\nHost: test\r\n\r\n", "GET")
		if resp.StatusCode != 503 {
			t.Fatalf("status %d, want 503", resp.StatusCode)
		}
	})
	first.text("still served")
	first.expectMessage(ws.OpText, []byte("still served"))
	first.close(1000, "")
	first.expectClose(1000)
	t.Run("closing frees the slot", func(t *testing.T) {
		status := 0
		testutil.WaitFor(t, 5*time.Second, "an upgrade to be accepted after the first WebSocket closed", func() bool {
			c := wsHandshake(t, ts, "/ws")
			status = c.resp.StatusCode
			c.c.Close()
			return status == 101
		})
	})
}

// TestWebSocketKeepaliveWaitsForSilence: pings go out only after PingInterval without
// inbound bytes; a busy peer is never pinged.
func TestWebSocketKeepaliveWaitsForSilence(t *testing.T) {
	const interval = 500 * time.Millisecond // margin for a loaded machine between sends
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{PingInterval: interval, PingTimeout: 5 * time.Second}})
	c := dialWS(t, ts, "/ws")
	pings := 0
	start := time.Now()
	var lastSent time.Time // the server hears the peer no earlier than this
	for time.Since(start) < 4*interval {
		lastSent = time.Now()
		c.text("busy")
		for f := c.read(); f.Header.OpCode != ws.OpText; f = c.read() {
			if f.Header.OpCode == ws.OpPing {
				pings++
				c.frame(ws.OpPong, true, f.Payload)
			}
		}
		time.Sleep(interval / 20) // pacing: a busy peer sends well within the interval
	}
	if pings != 0 {
		t.Fatalf("%d pings while the peer sent a message every %v (interval %v)", pings, interval/20, interval)
	}
	if f := c.read(); f.Header.OpCode != ws.OpPing {
		t.Fatalf("got %v after going quiet, want a ping", f.Header.OpCode)
	}
	// Measured from the last send, not from reading its echo: on a loaded machine the
	// echo can arrive late, which made the silence look shorter than it was.
	if d := time.Since(lastSent); d < interval-50*time.Millisecond || d > 10*interval {
		t.Fatalf("ping after %v of silence, want about %v", d, interval)
	}
}

// TestWebSocketKeepaliveLongFrameProvesLife: a peer that is pinged in the middle of
// sending a long frame cannot answer before the frame ends; its bytes keep the
// connection open past PingTimeout.
func TestWebSocketKeepaliveLongFrameProvesLife(t *testing.T) {
	const timeout = 500 * time.Millisecond
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{PingInterval: 100 * time.Millisecond, PingTimeout: timeout}})
	c := dialWS(t, ts, "/ws")
	if f := c.read(); f.Header.OpCode != ws.OpPing {
		t.Fatalf("got %v, want a ping", f.Header.OpCode)
	}
	payload := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	in := frameBytes(ws.OpBinary, true, 0, payload, true)
	start := time.Now()
	for off := 0; off < len(in); off += 512 {
		c.writeRaw(in[off:min(off+512, len(in))])
		time.Sleep(15 * time.Millisecond) // pacing: the frame takes longer than PingTimeout
	}
	if d := time.Since(start); d < 2*timeout {
		t.Fatalf("the frame took only %v to send; the test needs more than %v", d, 2*timeout)
	}
	for {
		f := c.read()
		switch f.Header.OpCode {
		case ws.OpPing:
			c.frame(ws.OpPong, true, f.Payload)
			continue
		case ws.OpBinary:
			if !bytes.Equal(f.Payload, payload) {
				t.Fatalf("echo of %d bytes differs", len(f.Payload))
			}
			return
		}
		t.Fatalf("got %v %q, want the echo", f.Header.OpCode, f.Payload)
	}
}

// TestWebSocketKeepaliveSuspendedWhileAppNotReading: while the inbox is full the
// server reads nothing, so a pong could not be seen; it does not ping then, and a
// patient peer is not closed for a missing pong.
func TestWebSocketKeepaliveSuspendedWhileAppNotReading(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{
		PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond, MaxQueuedMessages: 1}})
	c := dialWS(t, ts, "/sleepy")
	for range 3 {
		c.text("unread")
	}
	_ = c.c.SetReadDeadline(time.Now().Add(time.Second))
	for {
		f, err := ws.ReadFrame(c.br) //lint:ignore SA1019 the frames come from the server under test, with its own size limits
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // still open after 20 ping intervals
			}
			t.Fatalf("connection ended: %v", err)
		}
		switch f.Header.OpCode {
		case ws.OpPing:
			c.frame(ws.OpPong, true, f.Payload)
		case ws.OpClose:
			t.Fatalf("closed with %x while the app was not reading", f.Payload)
		}
	}
}

// TestWebSocketInvalidUTF8TextRefused: a text message that is not UTF-8 is refused with
// a contract error and never reaches the client; the app's failure closes with 1011.
func TestWebSocketInvalidUTF8TextRefused(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	c := dialWS(t, ts, "/badtext")
	if err := <-app.sendErrs; !asgi.IsContractError(err) {
		t.Fatalf("send of invalid UTF-8 text: %v, want a contract error", err)
	}
	f := c.read()
	if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != websocket.CloseInternalError {
		t.Fatalf("first frame %v %q, want close 1011 and no text frame", f.Header.OpCode, f.Payload)
	}
}

// TestWebSocketCloseReasonChecked: a close reason longer than 123 bytes, a reason that
// is not UTF-8 and a reserved close code are contract errors, not cut or sent; a
// 123-byte reason goes out whole.
func TestWebSocketCloseReasonChecked(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	c := dialWS(t, ts, "/closereason")
	for _, what := range []string{"124-byte reason", "invalid UTF-8 reason", "code 1006"} {
		if err := <-app.sendErrs; !asgi.IsContractError(err) {
			t.Fatalf("%s: %v, want a contract error", what, err)
		}
	}
	f := c.read()
	if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 4001 {
		t.Fatalf("first frame %v %q, want the valid close 4001", f.Header.OpCode, f.Payload)
	}
	if reason := f.Payload[2:]; len(reason) != websocket.MaxCloseReason || !utf8.Valid(reason) {
		t.Fatalf("reason of %d bytes %q, want the app's %d bytes", len(reason), reason, websocket.MaxCloseReason)
	}
}

// TestWebSocketSendAfterPeerClose: once the peer's close frame arrived, the server
// echoes it and the app's sends fail with asgi.ErrDisconnected; no data frame follows
// the server's close frame.
func TestWebSocketSendAfterPeerClose(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	c := dialWS(t, ts, "/ticker")
	c.expectMessage(ws.OpText, []byte("tick"))
	c.close(1000, "enough")
	for {
		f := c.read()
		if f.Header.OpCode == ws.OpText {
			continue // sent before our close arrived
		}
		if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 1000 {
			t.Fatalf("got %v %q, want the echo of close 1000", f.Header.OpCode, f.Payload)
		}
		break
	}
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, _ := io.ReadAll(c.br); len(rest) != 0 {
		t.Fatalf("%d bytes after the close frame", len(rest))
	}
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
		t.Fatalf("send after the peer's close: %v, want asgi.ErrDisconnected", err)
	}
}

// TestWebSocketAppCloseWithFullInbox: when the app closes while the client's unread
// messages fill the inbox, the server keeps reading (dropping later messages), so the
// client's close reply ends the connection at once instead of after CloseTimeout and
// the app learns the client's code.
func TestWebSocketAppCloseWithFullInbox(t *testing.T) {
	ts, app := startWSServer(t, Config{WebSocket: websocket.Config{MaxQueuedMessages: 1, CloseTimeout: 5 * time.Second}})
	c := dialWS(t, ts, "/closefull")
	for range 4 {
		c.text("unread")
	}
	f := c.read()
	if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 4000 {
		t.Fatalf("got %v %q, want close 4000", f.Header.OpCode, f.Payload)
	}
	start := time.Now()
	c.close(4000, "")
	c.expectEOF()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("connection closed %v after the close reply (CloseTimeout 5s)", d)
	}
	if d := <-app.disconnects; d.Code != 4000 {
		t.Fatalf("app saw %+v, want the client's close code 4000", d)
	}
}

// TestWebSocketPingFloodIsBounded: a peer that sends pings without reading the pongs
// cannot make the server queue pongs without bound. Above WriteHighWater unsent bytes
// the server stops reading; once the unread input passes MaxMessageSize the connection
// is aborted.
func TestWebSocketPingFloodIsBounded(t *testing.T) {
	ts, _ := startWSServer(t, Config{WriteHighWater: 256 << 10, WebSocket: websocket.Config{MaxMessageSize: 1 << 20}})
	c := dialWS(t, ts, "/ws")
	if tc, ok := c.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	batch := bytes.Repeat(pingFrame, 512) // 64 KiB of pings per write
	written := 0
	_ = c.c.SetWriteDeadline(time.Now().Add(3 * time.Second))
	for written < 64<<20 {
		n, err := c.c.Write(batch)
		written += n
		if err != nil {
			break
		}
	}
	// The unread-input cap, the high-water mark and kernel buffers: a few MiB at most.
	if written > 16<<20 {
		t.Fatalf("the server took %d MiB of pings from a peer that reads nothing", written>>20)
	}
	t.Logf("the server stopped reading after %d KiB of pings", written>>10)
	c.expectEOF() // aborted: a close frame would wait behind the pongs it does not read
}

// TestWebSocketPingFloodResumes: after pausing on a backlog of pongs the server reads
// on once the peer drains its output, answers every ping and serves messages.
func TestWebSocketPingFloodResumes(t *testing.T) {
	ts, _ := startWSServer(t, Config{WriteHighWater: 64 << 10})
	c := dialWS(t, ts, "/ws")
	const pings = 16 << 10 // 2 MiB of pings, 2 MiB of pongs
	go func() {            // blocks until the server reads; errors show as missing pongs below
		_, _ = c.c.Write(bytes.Repeat(pingFrame, pings))
		_, _ = c.c.Write(frameBytes(ws.OpText, true, 0, []byte("after the flood"), true))
	}()
	// The scenario: a peer that starts reading late, so the server pauses on a backlog
	// of pongs first (the writer's progress is not observable to wait for).
	time.Sleep(200 * time.Millisecond)
	pongs := 0
	for {
		f := c.read()
		if f.Header.OpCode == ws.OpPong {
			pongs++
			continue
		}
		if f.Header.OpCode != ws.OpText || string(f.Payload) != "after the flood" {
			t.Fatalf("got %v %q after %d pongs", f.Header.OpCode, f.Payload, pongs)
		}
		break
	}
	if pongs != pings {
		t.Fatalf("%d pongs for %d pings", pongs, pings)
	}
}

// pingFrame is a client ping with the largest payload a control frame allows.
var pingFrame = frameBytes(ws.OpPing, true, 0, bytes.Repeat([]byte("p"), 125), true)

// TestWebSocketSendAfterOwnClose: a message after the app's own websocket.close is a
// contract error (uvicorn's wording), before and after the peer answered the close;
// nothing follows the close frame.
func TestWebSocketSendAfterOwnClose(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	c := dialWS(t, ts, "/sendafterclose")
	f := c.read()
	if f.Header.OpCode != ws.OpClose || binary.BigEndian.Uint16(f.Payload) != 4002 {
		t.Fatalf("got %v %q, want close 4002", f.Header.OpCode, f.Payload)
	}
	if err := <-app.sendErrs; !asgi.IsContractError(err) || !strings.Contains(err.Error(), "after sending 'websocket.close'") {
		t.Fatalf("send after close: %v, want a contract error", err)
	}
	c.close(4002, "")
	c.expectEOF()
	if d := <-app.disconnects; d.Code != 4002 {
		t.Fatalf("disconnect %+v", d)
	}
	if err := <-app.sendErrs; !asgi.IsContractError(err) {
		t.Fatalf("send after close and disconnect: %v, want a contract error", err)
	}
}

// TestWebSocketKeepaliveDetectsPeerThatStopsReading: a pause on unsent output is the
// peer's doing and does not suspend the keepalive: a peer that reads nothing while the
// app streams to it is pinged, fails the pong timeout and is closed, which releases
// the app's blocked send.
func TestWebSocketKeepaliveDetectsPeerThatStopsReading(t *testing.T) {
	ts, app := startWSServer(t, Config{WriteHighWater: 64 << 10, BodyTimeout: 500 * time.Millisecond,
		WebSocket: websocket.Config{PingInterval: 400 * time.Millisecond, PingTimeout: 200 * time.Millisecond}})
	c := dialWS(t, ts, "/flood")
	if tc, ok := c.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(64 << 10)
	}
	// The scenario: the server's output backs up for a while, bounded by the first
	// ping at 400 ms (so not a wait for a condition with a long timeout).
	time.Sleep(100 * time.Millisecond)
	c.text("are you there") // before the first ping: reading pauses on that output
	select {
	case err := <-app.sendErrs:
		if !errors.Is(err, asgi.ErrDisconnected) && !errors.Is(err, context.Canceled) {
			t.Fatalf("blocked send ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a peer that reads nothing kept the connection open")
	}
}
