package eventloop

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// TestH2WebSocketPython drives WebSocket over HTTP/2 (RFC 8441) with python-hyper's
// h2 over h2c: echo and chat on streams beside a GET, ping/pong, the closing handshake,
// and refused or malformed extended CONNECTs (testdata/h2_websocket_client.py).
func TestH2WebSocketPython(t *testing.T) {
	if err := exec.Command(python, "-c", "import h2.connection").Run(); err != nil {
		t.Fatal("python3-h2 is required (make deps installs it)")
	}
	for _, mode := range []struct{ name, suffix string }{{"event mode", ""}, {"goroutine mode", "-goroutine"}} {
		t.Run(mode.name, func(t *testing.T) {
			ts, _ := startWSServer(t, Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, python, "testdata/h2_websocket_client.py", "127.0.0.1", port(ts.addr), mode.suffix).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "OK ") {
				t.Fatalf("python h2 WebSocket client: %v\n%s\nserver log:\n%s", err, out, ts.logs.String())
			}
			t.Log(strings.TrimSpace(string(out)))
		})
	}
}

// h2ws is one WebSocket over a rawH2 connection: frames written masked in DATA,
// server frames read from the stream's DATA.
type h2ws struct {
	r   *rawH2
	id  uint32
	buf []byte
	end bool // the server ended the stream
	rst *http2.RSTStreamFrame
}

// connectWS opens an extended CONNECT to path with extra header pairs and returns
// the stream and the response's fields.
func (r *rawH2) connectWS(id uint32, path string, extra ...string) (*h2ws, map[string]string) {
	r.t.Helper()
	pairs := append([]string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":authority", "x", ":path", path,
		"sec-websocket-version", "13"}, extra...)
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: r.block(pairs...)})
	f := r.until(5*time.Second, func(f http2.Frame) bool {
		h, ok := f.(*http2.MetaHeadersFrame)
		return ok && h.StreamID == id
	})
	if f == nil {
		r.t.Fatalf("connection closed before the answer of stream %d", id)
	}
	fields := map[string]string{}
	for _, hf := range f.(*http2.MetaHeadersFrame).Fields {
		fields[hf.Name] = hf.Value
	}
	return &h2ws{r: r, id: id}, fields
}

func (w *h2ws) send(op ws.OpCode, payload []byte) {
	w.r.t.Helper()
	if err := w.r.fr.WriteData(w.id, false, frameBytes(op, true, 0, payload, true)); err != nil {
		w.r.t.Fatal(err)
	}
}

// next returns the next server frame of the stream (nil once the stream ended or
// was reset), granting every DATA byte back to the server's windows.
func (w *h2ws) next() *ws.Frame {
	w.r.t.Helper()
	for {
		br := bytes.NewReader(w.buf)
		if h, err := ws.ReadHeader(br); err == nil && int64(br.Len()) >= h.Length {
			rest := w.buf[len(w.buf)-br.Len():]
			w.buf = rest[h.Length:]
			return &ws.Frame{Header: h, Payload: rest[:h.Length:h.Length]}
		}
		if w.end || w.rst != nil {
			return nil
		}
		fr := w.r.until(5*time.Second, func(f http2.Frame) bool {
			switch f := f.(type) {
			case *http2.DataFrame:
				return f.StreamID == w.id
			case *http2.RSTStreamFrame:
				return f.StreamID == w.id
			}
			return false
		})
		switch f := fr.(type) {
		case *http2.DataFrame:
			w.buf = append(w.buf, f.Data()...)
			w.end = f.StreamEnded()
			if n := uint32(len(f.Data())); n > 0 {
				w.r.fr.WriteWindowUpdate(0, n)
				w.r.fr.WriteWindowUpdate(w.id, n)
			}
		case *http2.RSTStreamFrame:
			w.rst = f
		case nil:
			w.r.t.Fatal("connection closed")
		}
	}
}

func (w *h2ws) wantMessage(op ws.OpCode, payload []byte) {
	w.r.t.Helper()
	f := w.next()
	if f == nil || f.Header.OpCode != op || !bytes.Equal(f.Payload, payload) {
		w.r.t.Fatalf("want %v %q, got %+v", op, payload, f)
	}
}

// wantClose reads the server's close frame and returns its code and reason.
func (w *h2ws) wantClose() (int, string) {
	w.r.t.Helper()
	f := w.next()
	if f == nil || f.Header.OpCode != ws.OpClose || len(f.Payload) < 2 {
		w.r.t.Fatalf("want a close frame, got %+v", f)
	}
	return int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:])
}

// wantEnd reads until the server ends the stream with END_STREAM.
func (w *h2ws) wantEnd() {
	w.r.t.Helper()
	if f := w.next(); f != nil || !w.end {
		w.r.t.Fatalf("want END_STREAM, got frame %+v (reset %v)", f, w.rst)
	}
}

func closePayload(code int, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// TestH2WebSocketScopeAndEcho: the scope is the HTTP/1.1 one with http_version 2, the
// app's subprotocol and headers go into the 200, and a close from the client is
// echoed with END_STREAM.
func TestH2WebSocketScopeAndEcho(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	r := dialH2(t, ts.addr)
	w, fields := r.connectWS(1, "/proto?x=1", "sec-websocket-protocol", "a, b")
	if fields[":status"] != "200" || fields["sec-websocket-protocol"] != "b" || fields["x-chosen"] != "b" {
		t.Fatalf("response %v", fields)
	}
	w.wantMessage(ws.OpText, []byte("/proto?x=1"))
	w.wantClose() // the app returned: 1000
	w.send(ws.OpClose, closePayload(1000, ""))
	w.wantEnd()

	s, _ := r.connectWS(3, "/scopeinfo?a=1", "sec-websocket-protocol", "one, two")
	s.wantMessage(ws.OpText, []byte(`2|ws|/scopeinfo|a=1|["one" "two"]|x`))

	e, fields := r.connectWS(5, "/ws-goroutine")
	if fields[":status"] != "200" {
		t.Fatalf("response %v", fields)
	}
	e.send(ws.OpText, []byte("héllo"))
	e.wantMessage(ws.OpText, []byte("héllo"))
	e.send(ws.OpClose, closePayload(4001, "done"))
	if code, _ := e.wantClose(); code != 4001 {
		t.Fatalf("close echo %d", code)
	}
	e.wantEnd()
}

// TestH2WebSocketPeerResetIs1006: RST_STREAM from the client ends the WebSocket with
// 1006 for the app, whose later sends fail; the connection goes on.
func TestH2WebSocketPeerResetIs1006(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	r := dialH2(t, ts.addr)
	if _, fields := r.connectWS(1, "/record"); fields[":status"] != "200" {
		t.Fatalf("response %v", fields)
	}
	r.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	select {
	case d := <-app.disconnects:
		if d.Code != 1006 {
			t.Fatalf("disconnect %+v, want 1006", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the app saw no disconnect")
	}
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
		t.Fatalf("send after reset: %v", err)
	}
	r.request(3, "GET", "/chat.html", true)
	if s := r.wantStatus(5*time.Second, 3); s != "200" {
		t.Fatalf("status %s", s)
	}
}

// TestH2WebSocketAppClose: the app's close frame, the client's answer, then the
// server's END_STREAM; the app sees the client's code.
func TestH2WebSocketAppClose(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	r := dialH2(t, ts.addr)
	w, _ := r.connectWS(1, "/close4000")
	if code, reason := w.wantClose(); code != 4000 || reason != "app says bye" {
		t.Fatalf("close %d %q", code, reason)
	}
	w.send(ws.OpClose, closePayload(4000, ""))
	w.wantEnd()
	if d := <-app.disconnects; d.Code != 4000 {
		t.Fatalf("disconnect %+v", d)
	}
}

// TestH2WebSocketShutdownCloses1001: a graceful shutdown closes open WebSockets with
// 1001 and completes once their closing handshakes did.
func TestH2WebSocketShutdownCloses1001(t *testing.T) {
	for _, path := range []string{"/ws-goroutine", "/ws"} { // goroutine mode, event mode
		t.Run(path, func(t *testing.T) {
			ts, _ := startWSServer(t, Config{})
			r := dialH2(t, ts.addr)
			w, _ := r.connectWS(1, path)
			w.send(ws.OpText, []byte("x"))
			w.wantMessage(ws.OpText, []byte("x"))
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				done <- ts.Shutdown(ctx)
			}()
			if code, _ := w.wantClose(); code != 1001 {
				t.Fatalf("close %d, want 1001", code)
			}
			w.send(ws.OpClose, closePayload(1001, ""))
			w.wantEnd()
			r.fr.WriteData(1, true, nil)
			if err := <-done; err != nil {
				t.Fatalf("shutdown: %v", err)
			}
		})
	}
}

// TestH2WebSocketFlowControl: with a 1 KiB stream window the server's frames are cut
// to the window and a 40 KB echo arrives whole as the client grants more; a message
// beyond MaxMessageSize closes with 1009.
func TestH2WebSocketFlowControl(t *testing.T) {
	for _, path := range []string{"/ws-goroutine", "/ws"} { // goroutine mode, event mode
		t.Run(path, func(t *testing.T) {
			ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxMessageSize: 64 << 10}})
			r := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1024})
			w, _ := r.connectWS(1, path)
			msg := bytes.Repeat([]byte("0123456789"), 4000)
			const part = 16000 // a frame and its header within the server's 16 KiB frame size
			for i := 0; i < len(msg); i += part {
				op, fin := ws.OpBinary, i+part >= len(msg)
				if i > 0 {
					op = ws.OpContinuation
				}
				if err := r.fr.WriteData(1, false, frameBytes(op, fin, 0, msg[i:min(len(msg), i+part)], true)); err != nil {
					t.Fatal(err)
				}
			}
			w.wantMessage(ws.OpBinary, msg)
			// Past the limit: the server fails at the frame header.
			r.fr.WriteData(1, false, []byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4})
			if code, _ := w.wantClose(); code != 1009 {
				t.Fatalf("close %d, want 1009", code)
			}
		})
	}
}

// TestH2WebSocketDeflate: permessage-deflate is negotiated through
// sec-websocket-extensions, and a large echo comes back compressed.
func TestH2WebSocketDeflate(t *testing.T) {
	for _, path := range []string{"/ws-goroutine", "/ws"} { // goroutine mode, event mode
		t.Run(path, func(t *testing.T) {
			ts, _ := startWSServer(t, Config{})
			r := dialH2(t, ts.addr)
			w, fields := r.connectWS(1, path, "sec-websocket-extensions", "permessage-deflate; client_max_window_bits")
			if !strings.HasPrefix(fields["sec-websocket-extensions"], "permessage-deflate") {
				t.Fatalf("response %v", fields)
			}
			msg := bytes.Repeat([]byte("compress me "), 200)
			w.send(ws.OpText, msg)
			f := w.next()
			if f == nil || f.Header.Rsv != 4 || len(f.Payload) >= len(msg) {
				t.Fatalf("want a compressed frame, got %+v", f)
			}
		})
	}
}

// TestH2WebSocketSlowApp: with an inbox of one message, parsing pauses (the peer's
// window is not granted) and resumes as the app receives: 200 messages sent at once
// come back whole and in order.
func TestH2WebSocketSlowApp(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxQueuedMessages: 1}})
	r := dialH2(t, ts.addr)
	w, _ := r.connectWS(1, "/ws-goroutine")
	var batch []byte
	for i := 0; i < 200; i++ {
		batch = append(batch, frameBytes(ws.OpText, true, 0, []byte(strconv.Itoa(i)+strings.Repeat(".", 500)), true)...)
	}
	for len(batch) > 0 {
		n := min(len(batch), 16<<10)
		r.fr.WriteData(1, false, batch[:n])
		batch = batch[n:]
	}
	for i := 0; i < 200; i++ {
		w.wantMessage(ws.OpText, []byte(strconv.Itoa(i)+strings.Repeat(".", 500)))
	}
}

// TestH2WebSocketHandshakeTimeout: an app that leaves websocket.connect unanswered
// gets its client a 500 and sees websocket.disconnect 1006; its late accept fails.
func TestH2WebSocketHandshakeTimeout(t *testing.T) {
	ts, app := startWSServer(t, Config{WebSocket: websocket.Config{HandshakeTimeout: 200 * time.Millisecond}})
	r := dialH2(t, ts.addr)
	if _, fields := r.connectWS(1, "/stuck"); fields[":status"] != "500" {
		t.Fatalf("response %v", fields)
	}
	if d := <-app.disconnects; d.Code != websocket.CloseAbnormal {
		t.Fatalf("disconnect %+v", d)
	}
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
		t.Fatalf("late accept: %v", err)
	}
}

// TestH2WebSocketKeepalive: a silent peer is pinged after PingInterval; one that
// answers stays open, one that stays silent is closed with 1011.
func TestH2WebSocketKeepalive(t *testing.T) {
	for _, path := range []string{"/ws-goroutine", "/ws"} { // goroutine mode, event mode
		t.Run(path, func(t *testing.T) {
			ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{PingInterval: 150 * time.Millisecond, PingTimeout: 150 * time.Millisecond}})
			r := dialH2(t, ts.addr)
			w, _ := r.connectWS(1, path)
			f := w.next()
			if f == nil || f.Header.OpCode != ws.OpPing {
				t.Fatalf("want a ping, got %+v", f)
			}
			w.send(ws.OpPong, f.Payload)
			if f := w.next(); f == nil || f.Header.OpCode != ws.OpPing {
				t.Fatalf("want another ping after the pong, got %+v", f)
			}
			if code, _ := w.wantClose(); code != 1011 {
				t.Fatalf("close %d, want 1011", code)
			}
			w.wantEnd()
		})
	}
}

// TestEarlyHintsPythonH2: python-hyper's h2 sees the 103 as an informational
// response with its link fields, before the final response on the same stream.
func TestEarlyHintsPythonH2(t *testing.T) {
	if err := exec.Command(python, "-c", "import h2.connection").Run(); err != nil {
		t.Fatal("python3-h2 is required (make deps installs it)")
	}
	ts := startServer(t, Config{}, nil)
	script := `
import socket, sys, h2.connection, h2.events, h2.config
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
c.initiate_connection()
c.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", "/early-hints")], end_stream=True)
s.sendall(c.data_to_send())
seen, done = [], False
while not done:
    data = s.recv(65536)
    assert data, "closed"
    for ev in c.receive_data(data):
        if isinstance(ev, h2.events.InformationalResponseReceived):
            h = ev.headers
            seen.append("103:" + ",".join(v for k, v in h if k == "link") if dict(h)[":status"] == "103" else "bad")
        elif isinstance(ev, h2.events.ResponseReceived):
            seen.append("final:" + dict(ev.headers)[":status"])
        elif isinstance(ev, h2.events.DataReceived):
            c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            done = True
    s.sendall(c.data_to_send())
print(" ".join(seen))
`
	out, err := exec.Command(python, "-c", script, "127.0.0.1", port(ts.addr)).CombinedOutput()
	want := "103:</app.css>; rel=preload; as=style 103:</app.js>; rel=preload; as=script final:200"
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("python h2: %v\n%s\nwant %s", err, out, want)
	}
}

// TestH2WebSocketInboundHeldByWindow: an app that does not read holds its client back
// through HTTP/2 flow control: the server grants no stream window for messages its
// inbox cannot take, so what it buffers stays within one stream window.
func TestH2WebSocketInboundHeldByWindow(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxQueuedMessages: 1}})
	r := dialH2(t, ts.addr)
	if _, fields := r.connectWS(1, "/sleepy"); fields[":status"] != "200" {
		t.Fatalf("response %v", fields)
	}
	const window = 256 << 10 // the server's SETTINGS_INITIAL_WINDOW_SIZE
	msg := frameBytes(ws.OpBinary, true, 0, make([]byte, 15000), true)
	sent := 0
	for sent+len(msg) <= window {
		if err := r.fr.WriteData(1, false, msg); err != nil {
			t.Fatal(err)
		}
		sent += len(msg)
	}
	granted := 0
	r.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			break // the deadline: the server went quiet
		}
		if wu, ok := f.(*http2.WindowUpdateFrame); ok && wu.StreamID == 1 {
			granted += int(wu.Increment)
		}
	}
	// One message in the inbox and one in the reader at most: far below the half
	// window after which the server would grant more.
	if granted != 0 {
		t.Fatalf("server granted %d stream bytes to a client whose app reads nothing", granted)
	}
	r.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	r.request(3, "GET", "/chat.html", true)
	if s := r.wantStatus(5*time.Second, 3); s != "200" {
		t.Fatalf("status %s", s)
	}
}

// TestH2WebSocketEventMode: an event-mode handler on an HTTP/2 stream follows the
// same rules as over HTTP/1.1: 403 and 500 before accept, close 1011 after its error,
// websocket.disconnect delivered once, last (also for a peer reset), and a sender
// that refuses with asgi.ErrBackpressure instead of blocking.
func TestH2WebSocketEventMode(t *testing.T) {
	ts, app := startWSServer(t, Config{})
	r := dialH2(t, ts.addr)
	if _, fields := r.connectWS(1, "/ev/deny"); fields[":status"] != "403" {
		t.Fatalf("deny: %v", fields)
	}
	<-app.disconnects
	if _, fields := r.connectWS(3, "/ev/failconnect"); fields[":status"] != "500" {
		t.Fatalf("failconnect: %v", fields)
	}
	if d := <-app.disconnects; d.Code != websocket.CloseAbnormal {
		t.Fatalf("failconnect disconnect %+v", d)
	}
	w, _ := r.connectWS(5, "/ev/fail")
	w.send(ws.OpText, []byte("boom"))
	if code, _ := w.wantClose(); code != 1011 {
		t.Fatalf("close %d, want 1011", code)
	}
	w.send(ws.OpClose, closePayload(1011, ""))
	w.wantEnd()
	if d := <-app.disconnects; d.Code != 1011 {
		t.Fatalf("fail disconnect %+v", d)
	}
	if _, fields := r.connectWS(7, "/ev/record"); fields[":status"] != "200" {
		t.Fatalf("record: %v", fields)
	}
	r.fr.WriteRSTStream(7, http2.ErrCodeCancel)
	if d := <-app.disconnects; d.Code != websocket.CloseAbnormal {
		t.Fatalf("reset disconnect %+v", d)
	}
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrDisconnected) {
		t.Fatalf("send after reset: %v", err)
	}
	// A client that does not read: /ev/push fills the stream and connection windows,
	// then SendNow refuses.
	small := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1024})
	if _, fields := small.connectWS(1, "/ev/push"); fields[":status"] != "200" {
		t.Fatalf("push: %v", fields)
	}
	total := <-app.sent
	if err := <-app.sendErrs; !errors.Is(err, asgi.ErrBackpressure) || total > 4<<20 {
		t.Fatalf("push stopped after %d bytes with %v, want asgi.ErrBackpressure", total, err)
	}
}

// TestH2WebSocketChromium: headless Chromium, on an https page it loaded over h2,
// opens wss:// WebSockets to the same server with RFC 8441 (the server advertises
// SETTINGS_ENABLE_CONNECT_PROTOCOL): the app's scope says http_version 2 and wss, and
// the chat page's selftest passes over the same connection.
func TestH2WebSocketChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatal("chromium is required; `make deps` installs it")
	}
	ts := startTLSServer(t, Config{}, newWSTestApp())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	devtools := startChromium(ctx, t, "--ignore-certificate-errors")
	page := openPage(ctx, t, devtools)
	defer page.Close()
	if status := page.waitStatus(t, ts.url("/chat.html?selftest")); !strings.HasPrefix(status, "selftest: ok ") {
		t.Fatalf("page status %q", status)
	}
	page.eval(t, `window.scopeInfo = ""; (() => {
		const w = new WebSocket("wss://" + location.host + "/scopeinfo?b=2");
		w.onmessage = e => { window.scopeInfo = e.data; w.close(1000) };
		w.onerror = () => { window.scopeInfo = "error" };
	})(); "started"`)
	var info string
	testutil.WaitFor(t, 20*time.Second, "the WebSocket's scope from Chromium", func() bool {
		info = page.eval(t, "window.scopeInfo")
		return info != ""
	})
	if !strings.HasPrefix(info, `2|wss|/scopeinfo|b=2|[]|`) {
		t.Fatalf("scope seen by the app: %q, want an HTTP/2 wss scope", info)
	}
	t.Logf("scope over RFC 8441 from Chromium: %s", info)
}
