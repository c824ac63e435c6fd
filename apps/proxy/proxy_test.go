package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/asgo-dev/asgo/internal/testutil"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startAsgo serves app with asgo's server on a free port and returns its address.
func startAsgo(t testing.TB, app asgi.App) string {
	t.Helper()
	srv := eventloop.New(eventloop.Config{Binds: []string{"127.0.0.1:0"}, Loops: 1, Logger: quiet()}, app)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.Addrs()[0].String()
}

// front serves the proxy for cfg mounted at /api, with a fallback app at "/".
func front(t testing.TB, cfg Config) (string, *Proxy) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := mount.New().Add("/api", p).Add("/", asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		return send(ctx, &asgi.HTTPResponseStart{Status: 418})
	}))
	return startAsgo(t, m), p
}

func client(version string) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	if version == "2" {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// seen is what the echo upstream reports about a request.
type seen struct {
	Method, Path, RawQuery, Host, Body string
	Header                             http.Header
}

func echoUpstream(t testing.TB) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Private", "hop")
		w.Header().Set("Connection", "X-Private")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-Upstream", "echo")
		json.NewEncoder(w).Encode(seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, string(b), r.Header})
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestParseRoute(t *testing.T) {
	r, err := ParseRoute("/api=http://127.0.0.1:8001, http://127.0.0.1:8002/v1")
	if err != nil || r.Prefix != "/api" || len(r.Upstreams) != 2 || r.String() != "/api=http://127.0.0.1:8001,http://127.0.0.1:8002/v1" {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"", "/api", "api=http://x:1", "/=http://x:1", "/api/=http://x:1", "/api=", "/api=https://x:1", "/api=http://x:1?q=1", "/api=ftp://x"} {
		if _, err := ParseRoute(bad); err == nil {
			t.Errorf("ParseRoute(%q) accepted", bad)
		}
	}
}

func TestForwarding(t *testing.T) {
	up := echoUpstream(t)
	addr, _ := front(t, Config{Upstreams: []string{up.URL + "/v1"}})
	apptest.ForVersions(t, func(t *testing.T, version string) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/items/%2Fx?q=1&r=2", strings.NewReader("payload"))
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		req.Header.Set("X-Custom", "kept")
		req.Header.Set("Proxy-Authorization", "Basic secret")
		if version == "1.1" { // HTTP/2 has no connection-specific fields
			req.Header.Set("X-Conn-Named", "dropped")
			req.Header.Add("Connection", "X-Conn-Named")
			req.Header.Set("Keep-Alive", "timeout=5")
			req.Header.Set("TE", "trailers")
		}
		resp, body := apptest.Fetch(t, client(version), req)
		var s seen
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("%d %q: %v", resp.StatusCode, body, err)
		}
		if s.Method != "POST" || s.Path != "/v1/items//x" || s.RawQuery != "q=1&r=2" || s.Body != "payload" {
			t.Errorf("upstream saw %+v", s)
		}
		if s.Host != strings.TrimPrefix(up.URL, "http://") {
			t.Errorf("Host %q", s.Host)
		}
		h := s.Header
		if got := h.Get("X-Forwarded-For"); got != "203.0.113.7, 127.0.0.1" {
			t.Errorf("X-Forwarded-For %q", got)
		}
		if h.Get("X-Forwarded-Proto") != "http" || h.Get("X-Forwarded-Host") != addr || h.Get("X-Forwarded-Prefix") != "/api" || h.Get("X-Custom") != "kept" {
			t.Errorf("forwarded headers %v", h)
		}
		for _, hop := range []string{"Proxy-Authorization", "X-Conn-Named", "Keep-Alive", "Te", "Connection"} {
			if _, ok := h[hop]; ok {
				t.Errorf("hop-by-hop %s forwarded: %v", hop, h)
			}
		}
		if resp.Header.Get("X-Upstream") != "echo" || resp.Header.Get("X-Private") != "" || resp.Header.Get("Proxy-Authenticate") != "" {
			t.Errorf("response headers %v", resp.Header)
		}
	})
	// GET without a body reaches the upstream without one; the prefix alone maps to the
	// upstream path.
	resp, body := apptest.Fetch(t, client("1.1"), mustReq("GET", "http://"+addr+"/api", nil))
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil || s.Path != "/v1" || s.Method != "GET" || resp.StatusCode != 200 {
		t.Fatalf("%d %+v %v", resp.StatusCode, s, err)
	}
}

func mustReq(method, url string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	return req
}

// TestStreaming checks that bodies stream both ways: the upstream echoes each piece
// of the request body as it arrives, and the client sends the next piece only after it
// read the echo of the previous one.
func TestStreaming(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		br := bufio.NewReader(r.Body)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				fmt.Fprintf(w, "echo %s", line)
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	defer up.Close()
	addr, _ := front(t, Config{Upstreams: []string{up.URL}})
	apptest.ForVersions(t, func(t *testing.T, version string) {
		pr, pw := io.Pipe()
		req := mustReq("POST", "http://"+addr+"/api/duplex", pr)
		done := make(chan *http.Response, 1)
		go func() {
			resp, err := client(version).Do(req)
			if err != nil {
				t.Error(err)
				close(done)
				return
			}
			done <- resp
		}()
		var resp *http.Response
		for i := 0; i < 3; i++ {
			fmt.Fprintf(pw, "line %d\n", i)
			if resp == nil {
				if resp = <-done; resp == nil {
					t.FailNow()
				}
				defer resp.Body.Close()
			}
			br := bufioReader(resp.Body)
			got, err := br.ReadString('\n')
			if want := fmt.Sprintf("echo line %d\n", i); got != want || err != nil {
				t.Fatalf("read %q, %v; want %q", got, err, want)
			}
		}
		pw.Close()
		rest, _ := io.ReadAll(resp.Body)
		if len(rest) != 0 {
			t.Fatalf("rest %q", rest)
		}
	})
}

var readers sync.Map

func bufioReader(r io.Reader) *bufio.Reader {
	br, _ := readers.LoadOrStore(r, bufio.NewReader(r))
	return br.(*bufio.Reader)
}

// named returns an upstream answering its name.
func named(t *testing.T, name string) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(ts.Close)
	return ts
}

// deadAddr returns an address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestRoundRobinAndPassiveHealth(t *testing.T) {
	a, b := named(t, "a"), named(t, "b")
	dead := deadAddr(t)
	var logs testutil.LogBuffer
	addr, p := front(t, Config{Upstreams: []string{a.URL, dead, b.URL}, DownFor: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := client("1.1")
	var got []string
	for i := 0; i < 8; i++ {
		resp, body := apptest.Fetch(t, c, mustReq("GET", "http://"+addr+"/api/", nil))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		got = append(got, body)
	}
	// The dead upstream's turn is retried on b at once, then it is skipped.
	if strings.Join(got, "") != "abababab" {
		t.Errorf("upstreams in turn: %v", got)
	}
	if n := strings.Count(logs.String(), "upstream down"); n != 1 || !strings.Contains(logs.String(), dead) {
		t.Errorf("%d down lines:\n%s", n, logs.String())
	}
	// All down: they are tried anyway.
	for _, u := range p.ups {
		u.downUntil.Store(time.Now().Add(time.Hour).UnixNano())
	}
	if resp, body := apptest.Fetch(t, c, mustReq("GET", "http://"+addr+"/api/", nil)); resp.StatusCode != 200 && resp.StatusCode != 502 {
		t.Fatalf("all down: %d %s", resp.StatusCode, body)
	}
	// Only dead upstreams: 502 with a clear body.
	addr2, _ := front(t, Config{Upstreams: []string{dead}})
	resp, body := apptest.Fetch(t, c, mustReq("GET", "http://"+addr2+"/api/x", nil))
	if resp.StatusCode != 502 || !strings.Contains(body, "Bad Gateway: upstream "+dead) || !strings.Contains(body, "refused") {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

// rawUpstream accepts connections and hands each to serve.
func rawUpstream(t *testing.T, serve func(net.Conn)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				serve(c)
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

func TestUpstreamFailures(t *testing.T) {
	midHead := rawUpstream(t, func(c net.Conn) { io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-") })
	midBody := rawUpstream(t, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\nonly ten b")
	})
	slow := rawUpstream(t, func(c net.Conn) { time.Sleep(2 * time.Second) })
	headAddr, _ := front(t, Config{Upstreams: []string{midHead}})
	bodyAddr, _ := front(t, Config{Upstreams: []string{midBody}})
	slowAddr, _ := front(t, Config{Upstreams: []string{slow}, HeadTimeout: 200 * time.Millisecond})
	apptest.ForVersions(t, func(t *testing.T, version string) {
		c := client(version)
		resp, body := apptest.Fetch(t, c, mustReq("GET", "http://"+headAddr+"/api/", nil))
		if resp.StatusCode != 502 || !strings.HasPrefix(body, "Bad Gateway: upstream "+midHead) {
			t.Errorf("killed mid-head: %d %q", resp.StatusCode, body)
		}
		start := time.Now()
		resp, body = apptest.Fetch(t, c, mustReq("GET", "http://"+slowAddr+"/api/", nil))
		if resp.StatusCode != 504 || !strings.HasPrefix(body, "Gateway Timeout") || time.Since(start) > 1500*time.Millisecond {
			t.Errorf("head timeout: %d %q after %v", resp.StatusCode, body, time.Since(start))
		}
		resp, err := c.Get("http://" + bodyAddr + "/api/")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("killed mid-body: read %q without an error", b)
		}
	})
}

// wsUpstream is an asgo WebSocket app: it accepts with the first subprotocol offered,
// echoes messages, closes with 4002 on "close please", and reports the client's close
// code on codes.
func wsUpstream(codes chan<- int) asgi.App {
	return asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		s, ok := scope.(*asgi.WebSocketScope)
		if !ok {
			return fmt.Errorf("unsupported scope")
		}
		if _, err := receive(ctx); err != nil {
			return err
		}
		sub := ""
		if len(s.Subprotocols) > 0 {
			sub = s.Subprotocols[0]
		}
		if err := send(ctx, &asgi.WebSocketAccept{Subprotocol: sub}); err != nil {
			return err
		}
		hello := s.Path + " " + string(s.Headers.Get("x-forwarded-for")) + " " + string(s.Headers.Get("x-custom"))
		if err := send(ctx, &asgi.WebSocketSend{Data: []byte(hello), Text: true}); err != nil {
			return err
		}
		for {
			msg, err := receive(ctx)
			if err != nil {
				return err
			}
			switch m := msg.(type) {
			case *asgi.WebSocketReceive:
				if string(m.Data) == "close please" {
					return send(ctx, &asgi.WebSocketClose{Code: 4002, Reason: "bye"})
				}
				if err := send(ctx, &asgi.WebSocketSend{Data: m.Data, Text: m.Text}); err != nil {
					return err
				}
			case *asgi.WebSocketDisconnect:
				codes <- m.Code
				return nil
			}
		}
	})
}

func TestWebSocket(t *testing.T) {
	codes := make(chan int, 4)
	upAddr := startAsgo(t, wsUpstream(codes))
	addr, _ := front(t, Config{Upstreams: []string{"http://" + upAddr}})
	dial := func() (*wsConn, ws.Handshake) {
		d := ws.Dialer{Protocols: []string{"chat.v2", "chat.v1"}, Header: ws.HandshakeHeaderHTTP(http.Header{"X-Custom": {"c"}})}
		conn, br, hs, err := d.Dial(context.Background(), "ws://"+addr+"/api/room?x=1")
		if err != nil {
			t.Fatal(err)
		}
		c := &wsConn{Conn: conn, r: conn}
		if br != nil {
			c.r = br // the first frame came with the handshake
		}
		return c, hs
	}
	conn, hs := dial()
	if hs.Protocol != "chat.v2" {
		t.Errorf("subprotocol %q", hs.Protocol)
	}
	read := func(c *wsConn) (string, ws.OpCode) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		data, op, err := wsutil.ReadServerData(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(data), op
	}
	if got, _ := read(conn); got != "/room 127.0.0.1 c" {
		t.Errorf("upstream saw %q", got)
	}
	wsutil.WriteClientMessage(conn, ws.OpText, []byte("héllo"))
	if got, op := read(conn); got != "héllo" || op != ws.OpText {
		t.Errorf("text echo %q %v", got, op)
	}
	wsutil.WriteClientMessage(conn, ws.OpBinary, []byte{0, 1, 2})
	if got, op := read(conn); got != "\x00\x01\x02" || op != ws.OpBinary {
		t.Errorf("binary echo %q %v", got, op)
	}
	// The client closes with 4001: the upstream sees 4001.
	wsutil.WriteClientMessage(conn, ws.OpClose, ws.NewCloseFrameBody(4001, "done"))
	select {
	case code := <-codes:
		if code != 4001 {
			t.Errorf("upstream saw close %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("upstream saw no close")
	}
	conn.Close()

	// The upstream closes with 4002: the client gets 4002.
	conn, _ = dial()
	defer conn.Close()
	read(conn)
	wsutil.WriteClientMessage(conn, ws.OpText, []byte("close please"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := wsutil.ReadServerData(conn)
	closed, ok := err.(wsutil.ClosedError)
	if !ok || closed.Code != 4002 || closed.Reason != "bye" {
		t.Fatalf("client got %v", err)
	}

	// An upstream that cannot be reached: the handshake is refused with 502.
	addr2, _ := front(t, Config{Upstreams: []string{deadAddr(t)}})
	_, _, _, err = ws.Dial(context.Background(), "ws://"+addr2+"/api/x")
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("dead upstream: %v", err)
	}
}

// wsConn reads through the handshake's buffered reader.
type wsConn struct {
	net.Conn
	r io.Reader
}

func (c *wsConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// TestCurl runs curl over HTTP/1.1 and HTTP/2 against the proxy: a streamed upstream
// response arrives piece by piece, and a POST body reaches the upstream.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl is required (make deps installs it): %v", err)
	}
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "got %d bytes", len(b))
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: last\n\n")
	}))
	defer up.Close()
	addr, _ := front(t, Config{Upstreams: []string{up.URL}})
	for _, flag := range []string{"--http1.1", "--http2-prior-knowledge"} {
		t.Run(flag, func(t *testing.T) {
			out, err := exec.Command(curl, "-sS", "--max-time", "10", flag, "--data-binary", strings.Repeat("x", 100000), "http://"+addr+"/api/upload").CombinedOutput()
			if err != nil || string(out) != "got 100000 bytes" {
				t.Fatalf("POST: %v %q", err, out)
			}
			cmd := exec.Command(curl, "-sSN", "--max-time", "10", flag, "http://"+addr+"/api/events")
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(stdout)
			line, err := br.ReadString('\n')
			if line != "data: first\n" || err != nil {
				t.Fatalf("first event %q %v", line, err)
			}
			release <- struct{}{} // the last event is produced only now
			rest, _ := io.ReadAll(br)
			if err := cmd.Wait(); err != nil || string(rest) != "\ndata: last\n\n" {
				t.Fatalf("rest %q, %v", rest, err)
			}
		})
	}
}
