package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/asgo-dev/asgo/apps/chat"
	"github.com/asgo-dev/asgo/apps/wsecho"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// wsTestApp routes the WebSocket tests: /ws is the echo app and /chat the chat room in
// event mode (asgi.WebSocketEventer), /ws-goroutine and /chat-goroutine the same apps
// through ServeASGI, /chat.html the room's page, /ev/... event-mode handlers that
// exercise one server behaviour each, and the other paths the same in goroutine mode.
type wsTestApp struct {
	room        *chat.Room
	disconnects chan asgi.WebSocketDisconnect // what /record saw
	sendErrs    chan error                    // what /flood's send returned at the end
	sent        chan int                      // bytes /flood managed to queue
	wsCalls     atomic.Int32                  // WebSocket scopes the app was called with
}

func newWSTestApp() *wsTestApp {
	return &wsTestApp{
		room:        chat.New(chat.Config{}),
		disconnects: make(chan asgi.WebSocketDisconnect, 16),
		sendErrs:    make(chan error, 16),
		sent:        make(chan int, 16),
	}
}

func (a *wsTestApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	var path string
	switch s := scope.(type) {
	case *asgi.WebSocketScope:
		a.wsCalls.Add(1)
		path = s.Path
	case *asgi.HTTPScope:
		path = s.Path
	}
	switch path {
	case "/ws", "/ws-goroutine":
		return wsecho.App.ServeASGI(ctx, scope, receive, send)
	case "/chat", "/chat-goroutine", "/chat.html":
		return a.room.ServeASGI(ctx, scope, receive, send)
	}
	if _, ok := scope.(*asgi.WebSocketScope); !ok {
		return respond(ctx, send, 404, "not found")
	}
	if _, err := receive(ctx); err != nil { // websocket.connect
		return err
	}
	return a.serveSpecial(ctx, path, scope.(*asgi.WebSocketScope), receive, send)
}

func (a *wsTestApp) serveSpecial(ctx context.Context, path string, scope *asgi.WebSocketScope, receive asgi.Receive, send asgi.Send) error {
	switch path {
	case "/deny":
		return send(ctx, &asgi.WebSocketClose{})
	case "/denial":
		if err := send(ctx, &asgi.WebSocketHTTPResponseStart{Status: 401, Headers: asgi.H("content-type", "text/plain", "www-authenticate", "Bearer")}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketHTTPResponseBody{Body: []byte("no "), MoreBody: true}); err != nil {
			return err
		}
		return send(ctx, &asgi.WebSocketHTTPResponseBody{Body: []byte("entry")})
	case "/proto":
		proto := ""
		if len(scope.Subprotocols) > 0 {
			proto = scope.Subprotocols[len(scope.Subprotocols)-1]
		}
		if err := send(ctx, &asgi.WebSocketAccept{Subprotocol: proto, Headers: asgi.H("x-chosen", proto)}); err != nil {
			return err
		}
		return send(ctx, &asgi.WebSocketSend{Data: []byte(scope.Path + "?" + string(scope.QueryString)), Text: true})
	case "/scopeinfo": // the scope's fields, for the HTTP/1.1 and HTTP/2 tests alike
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		info := fmt.Sprintf("%s|%s|%s|%s|%q|%s", scope.HTTPVersion, scope.Scheme, scope.Path, scope.QueryString, scope.Subprotocols, scope.Headers.Get("host"))
		return send(ctx, &asgi.WebSocketSend{Data: []byte(info), Text: true})
	case "/noaccept":
		return nil
	case "/stuck": // answers websocket.connect only after the server gave up
		a.recordDisconnect(ctx, receive)
		err := send(ctx, &asgi.WebSocketAccept{})
		a.sendErrs <- err
		return err
	case "/stuckdenial": // starts a denial response and never finishes it
		if err := send(ctx, &asgi.WebSocketHTTPResponseStart{Status: 401}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketHTTPResponseBody{Body: []byte("partial"), MoreBody: true}); err != nil {
			return err
		}
		<-ctx.Done()
		err := send(context.Background(), &asgi.WebSocketHTTPResponseBody{Body: []byte("late")})
		a.sendErrs <- err
		return err
	case "/badproto": // a subprotocol the client did not offer: a contract error
		err := send(ctx, &asgi.WebSocketAccept{Subprotocol: "nope"})
		a.sendErrs <- err
		return err
	case "/badtext":
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		err := send(ctx, &asgi.WebSocketSend{Data: []byte("bad \xff"), Text: true})
		a.sendErrs <- err
		return err
	case "/panic":
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		panic("boom")
	case "/return":
		return send(ctx, &asgi.WebSocketAccept{})
	case "/close4000":
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketClose{Code: 4000, Reason: "app says bye"}); err != nil {
			return err
		}
		a.recordDisconnect(ctx, receive)
		return nil
	case "/record":
		// The accept may report asgi.ErrDisconnected when the client closes right
		// after reading the 101; the disconnect is recorded either way.
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil && !errors.Is(err, asgi.ErrDisconnected) {
			return err
		}
		a.recordDisconnect(ctx, receive)
		err := send(ctx, &asgi.WebSocketSend{Data: []byte("late")})
		a.sendErrs <- err
		return nil
	case "/flood":
		return a.flood(ctx, send)
	case "/closefull": // closes while the client's messages fill the inbox, unread
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		// The scenario: an app busy elsewhere while the client's messages arrive. ASGI
		// gives the app no view of the inbox, so it cannot wait for "full" instead.
		time.Sleep(300 * time.Millisecond)
		if err := send(ctx, &asgi.WebSocketClose{Code: 4000}); err != nil {
			return err
		}
		<-ctx.Done() // reads nothing until the connection has closed
		a.recordDisconnect(context.Background(), receive)
		return nil
	case "/sendafterclose": // a message after its own websocket.close
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketClose{Code: 4002}); err != nil {
			return err
		}
		a.sendErrs <- send(ctx, &asgi.WebSocketSend{Data: []byte("late"), Text: true})
		a.recordDisconnect(ctx, receive)
		a.sendErrs <- send(ctx, &asgi.WebSocketSend{Data: []byte("later"), Text: true})
		return nil
	case "/ticker": // sends until a send fails
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		for {
			if err := send(ctx, &asgi.WebSocketSend{Data: []byte("tick"), Text: true}); err != nil {
				a.sendErrs <- err
				return nil
			}
			time.Sleep(5 * time.Millisecond) // pacing: a ticker
		}
	case "/closereason": // close messages a close frame cannot carry, then a valid one
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		for _, m := range []*asgi.WebSocketClose{
			{Code: 4000, Reason: strings.Repeat("r", 124)},
			{Code: 4000, Reason: "bad \xff"},
			{Code: 1006},
		} {
			a.sendErrs <- send(ctx, m)
		}
		return send(ctx, &asgi.WebSocketClose{Code: 4001, Reason: strings.Repeat("é", 61) + "r"}) // 123 bytes
	case "/sleepy": // accepts, never reads
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	return send(ctx, &asgi.WebSocketClose{})
}

// recordDisconnect reads until websocket.disconnect and reports it.
func (a *wsTestApp) recordDisconnect(ctx context.Context, receive asgi.Receive) {
	for {
		m, err := receive(ctx)
		if err != nil {
			a.disconnects <- asgi.WebSocketDisconnect{Code: -1, Reason: err.Error()}
			return
		}
		if d, ok := m.(*asgi.WebSocketDisconnect); ok {
			a.disconnects <- *d
			return
		}
	}
}

// flood sends 64 KiB messages until the client is gone, reporting how much it queued.
func (a *wsTestApp) flood(ctx context.Context, send asgi.Send) error {
	if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte{'f'}, 64<<10)
	total := 0
	for {
		err := send(ctx, &asgi.WebSocketSend{Data: chunk})
		if err != nil {
			a.sent <- total
			a.sendErrs <- err
			return nil
		}
		total += len(chunk)
		if total%(1<<20) == 0 {
			select {
			case a.sent <- total:
			default:
			}
		}
	}
}

// startWSServer runs the WebSocket test app on a fresh server.
func startWSServer(t testing.TB, cfg Config) (*testServer, *wsTestApp) {
	t.Helper()
	app := newWSTestApp()
	return startServer(t, cfg, app), app
}

// wsClient is a minimal, fully controllable WebSocket client for the tests: it writes
// any frame (masked with a fixed key unless told otherwise) and reads raw server frames.
type wsClient struct {
	t    testing.TB
	c    net.Conn
	br   *bufio.Reader
	resp *http.Response
	mu   sync.Mutex
}

const wsTestKey = "dGhlIHNhbXBsZSBub25jZQ=="

// wsUpgradeRequest is a valid handshake request for path with extra header lines.
func wsUpgradeRequest(path string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path)
	fmt.Fprintf(&b, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", wsTestKey)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// wsHandshake sends an upgrade request and returns the client with the response read.
func wsHandshake(t testing.TB, ts *testServer, path string, extra ...string) *wsClient {
	t.Helper()
	c := ts.dial(t)
	br := bufio.NewReader(c)
	resp := roundTrip(t, c, br, wsUpgradeRequest(path, extra...), "GET")
	return &wsClient{t: t, c: c, br: br, resp: resp}
}

// dialWS opens a WebSocket on path and fails the test unless the server answered 101.
func dialWS(t testing.TB, ts *testServer, path string, extra ...string) *wsClient {
	t.Helper()
	wc := wsHandshake(t, ts, path, extra...)
	if wc.resp.StatusCode != 101 || wc.resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %s %v", wc.resp.Status, wc.resp.Header)
	}
	return wc
}

// frameBytes encodes a client frame; rsv is the three reserved bits (4 = RSV1).
func frameBytes(op ws.OpCode, fin bool, rsv byte, payload []byte, masked bool) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(len(payload)), Masked: masked}
	if masked {
		h.Mask = [4]byte{0xa1, 0x02, 0x7c, 0x55}
	}
	var buf bytes.Buffer
	_ = ws.WriteHeader(&buf, h)
	p := bytes.Clone(payload)
	if masked {
		ws.Cipher(p, h.Mask, 0)
	}
	buf.Write(p)
	return buf.Bytes()
}

func (w *wsClient) writeRaw(b []byte) {
	w.t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.c.Write(b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// writeChunked writes b in pieces of n bytes, as a slow client would.
func (w *wsClient) writeChunked(b []byte, n int) {
	for len(b) > 0 {
		k := min(n, len(b))
		w.writeRaw(b[:k])
		b = b[k:]
	}
}

func (w *wsClient) frame(op ws.OpCode, fin bool, payload []byte) {
	w.writeRaw(frameBytes(op, fin, 0, payload, true))
}

func (w *wsClient) text(s string)   { w.frame(ws.OpText, true, []byte(s)) }
func (w *wsClient) binary(b []byte) { w.frame(ws.OpBinary, true, b) }

func (w *wsClient) close(code int, reason string) {
	w.frame(ws.OpClose, true, append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...))
}

// read returns the next server frame; server frames must never be masked.
func (w *wsClient) read() ws.Frame {
	w.t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	f, err := ws.ReadFrame(w.br) //lint:ignore SA1019 the frames come from the server under test, with its own size limits
	if err != nil {
		w.t.Fatalf("reading frame: %v", err)
	}
	if f.Header.Masked {
		w.t.Fatal("server frame is masked")
	}
	return f
}

// expectMessage reads one single-frame message.
func (w *wsClient) expectMessage(op ws.OpCode, want []byte) {
	w.t.Helper()
	f := w.read()
	if f.Header.OpCode != op || !f.Header.Fin || !bytes.Equal(f.Payload, want) {
		w.t.Fatalf("got %v fin=%v %d bytes %.40q, want %v %d bytes", f.Header.OpCode, f.Header.Fin, len(f.Payload), f.Payload, op, len(want))
	}
}

// expectClose reads frames until a close and checks its code (1005: empty payload),
// then expects the server to close the TCP connection.
func (w *wsClient) expectClose(code int) string {
	w.t.Helper()
	for {
		f := w.read()
		if f.Header.OpCode != ws.OpClose {
			continue
		}
		got, reason := 1005, ""
		if len(f.Payload) >= 2 {
			got, reason = int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
		}
		if got != code {
			w.t.Fatalf("close code %d (%q), want %d", got, reason, code)
		}
		// Answer as a client does; the server may have closed already.
		_, _ = w.c.Write(frameBytes(ws.OpClose, true, 0, f.Payload[:min(2, len(f.Payload))], true))
		w.expectEOF()
		return reason
	}
}

// expectEOF checks that the server closes the connection.
func (w *wsClient) expectEOF() {
	w.t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, w.br)
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		w.t.Fatalf("waiting for the server to close: %v after %d bytes", err, n)
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "reset by peer")
}
