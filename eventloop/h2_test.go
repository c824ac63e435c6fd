package eventloop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

//lint:file-ignore SA1019 x/net's own deprecated h2c client is a peer independent of net/http's HTTP/2

// h2cClient returns an HTTP/2 client speaking h2c with prior knowledge.
func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}, Timeout: 20 * time.Second}
}

// bodyFirstApp reads the whole request body, then answers 200 with its length: what
// h2spec needs (it sends requests with bodies and trailers and wants a response).
var bodyFirstApp = asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	body, err := readBody(ctx, receive)
	if err != nil {
		return err
	}
	return respond(ctx, send, 200, "received "+strconv.Itoa(len(body))+" bytes of request body\n")
})

// inlineBodyFirstApp is bodyFirstApp as an asgi.Inliner: requests without a body run on
// the event loop.
type inlineBodyFirstApp struct{}

func (inlineBodyFirstApp) Inline(asgi.Scope) bool { return true }

func (inlineBodyFirstApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	return bodyFirstApp.ServeASGI(ctx, scope, receive, send)
}

// tool returns the path of an external test tool, skipping the test when it is
// missing (make deps installs all of them).
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := filepath.Abs(filepath.Join("..", "bin", name)); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required (make deps installs it)", name)
	}
	return p
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestH2Spec runs h2spec in strict mode against the real server: every case must pass,
// with an app on executor goroutines and with an inline app (asgi.Inliner) on the loop,
// over h2c and over TLS (ALPN h2).
func TestH2Spec(t *testing.T) {
	h2spec := tool(t, "h2spec")
	for _, tc := range []struct {
		name string
		app  asgi.App
		path string
		tls  bool
	}{
		{"goroutine app", bodyFirstApp, "/", false},
		{"inline app", inlineBodyFirstApp{}, "/", false},
		{"tls goroutine app", bodyFirstApp, "/", true},
		{"tls inline app", inlineBodyFirstApp{}, "/", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--strict", "-h", "127.0.0.1", "-P", tc.path, "-o", "3"}
			if tc.tls {
				ts := startTLSServer(t, Config{}, tc.app)
				args = append(args, "-p", port(ts.addr), "--tls", "--insecure")
			} else {
				ts := startServer(t, Config{}, tc.app)
				args = append(args, "-p", port(ts.addr))
			}
			report := filepath.Join(t.TempDir(), "h2spec.xml")
			cmd := exec.Command(h2spec, append(args, "-j", report)...)
			out, err := cmd.CombinedOutput()
			summary := ""
			if i := bytes.LastIndex(out, []byte("tests,")); i >= 0 {
				summary = strings.TrimSpace(string(out[bytes.LastIndexByte(out[:i], '\n')+1:]))
			}
			t.Logf("h2spec: %s", summary)
			if err != nil || !strings.Contains(summary, " 0 skipped, 0 failed") {
				failures := out
				if i := bytes.Index(out, []byte("Failures:")); i >= 0 {
					failures = out[i:]
				}
				t.Fatalf("h2spec failed (%v):\n%s", err, failures)
			}
		})
	}
}

func h2curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCurl(append([]string{"--max-time", "20"}, args...)...)
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return out
}

// runCurl runs curl -sS with args and returns its combined output.
func runCurl(args ...string) (string, error) {
	path, err := exec.LookPath("curl")
	if err != nil {
		return "", fmt.Errorf("curl is required (make deps installs it): %w", err)
	}
	out, err := exec.Command(path, append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
	return string(out), err
}

func TestH2Curl(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	t.Run("get", func(t *testing.T) {
		out := h2curl(t, "--http2-prior-knowledge", "-w", " %{http_version}", ts.url("/hello"))
		if out != "Hello, World! 2" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("post upload", func(t *testing.T) {
		data := bytes.Repeat([]byte("asgo h2 upload "), 300_000) // 4.5 MB: many window updates
		file := filepath.Join(t.TempDir(), "upload")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out := h2curl(t, "--http2-prior-knowledge", "--data-binary", "@"+file, ts.url("/sha256"))
		if want := fmt.Sprintf("%d %x", len(data), sha256.Sum256(data)); out != want {
			t.Fatalf("got %q, want %q", out, want)
		}
	})
	t.Run("streaming", func(t *testing.T) {
		out := h2curl(t, "--http2-prior-knowledge", "-N", ts.url("/stream?5"))
		if out != "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("upgrade h2c", func(t *testing.T) {
		out := h2curl(t, "--http2", "-w", " %{http_version}", ts.url("/scope?x=1"))
		if out != "GET|/scope|/scope|x=1|2 2" {
			t.Fatalf("got %q", out)
		}
	})
	t.Run("upgrade with body stays on HTTP/1.1", func(t *testing.T) {
		out := h2curl(t, "--http2", "-d", "abc", "-w", " %{http_version}", ts.url("/echo"))
		if out != "abc 1.1" {
			t.Fatalf("got %q", out)
		}
	})
}

// TestH2PythonClient multiplexes requests on one connection with python-hyper's h2, an
// independent implementation.
func TestH2PythonClient(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import h2.connection").Run(); err != nil {
		t.Fatal("python3-h2 is required (make deps installs it)")
	}
	ts := startServer(t, Config{}, nil)
	script := `
import socket, sys, h2.connection, h2.events, h2.config
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=10)
c = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
c.initiate_connection()
ids = []
for i in range(n):
    sid = c.get_next_available_stream_id()
    ids.append(sid)
    path = "/echo" if i % 2 else "/hello"
    end = (i % 2 == 0)
    c.send_headers(sid, [(":method", "POST" if i % 2 else "GET"), (":scheme", "http"), (":authority", host), (":path", path)], end_stream=end)
    if not end:
        c.send_data(sid, b"x" * (1000 + i), end_stream=True)
s.sendall(c.data_to_send())
bodies, status, done = {}, {}, set()
while len(done) < n:
    data = s.recv(65536)
    if not data:
        break
    for ev in c.receive_data(data):
        if isinstance(ev, h2.events.ResponseReceived):
            status[ev.stream_id] = dict(ev.headers)[b":status"]
        elif isinstance(ev, h2.events.DataReceived):
            bodies[ev.stream_id] = bodies.get(ev.stream_id, b"") + ev.data
            c.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
        elif isinstance(ev, h2.events.StreamEnded):
            done.add(ev.stream_id)
    s.sendall(c.data_to_send())
ok = 0
for i, sid in enumerate(ids):
    want = (b"x" * (1000 + i)) if i % 2 else b"Hello, World!"
    if status.get(sid) == b"200" and bodies.get(sid, b"") == want:
        ok += 1
print(ok)
`
	out, err := exec.Command(python, "-c", script, "127.0.0.1", port(ts.addr), "40").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "40" {
		t.Fatalf("python h2 client: %v\n%s", err, out)
	}
}

// TestH2PythonHTTPX runs concurrent requests through httpx (HTTP/2 only: prior
// knowledge over TCP, ALPN over TLS) on one connection.
func TestH2PythonHTTPX(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import httpx, h2").Run(); err != nil {
		t.Fatal("python3-httpx and python3-h2 are required (make deps installs them)")
	}
	eachTransport(t, func(t *testing.T, tr transport) { h2PythonHTTPX(t, python, tr.start(t, Config{}, nil)) })
}

func h2PythonHTTPX(t *testing.T, python string, ts *testServer) {
	// asyncio, not threads: httpcore's sync HTTP/2 connection takes a stream id and
	// sends its HEADERS in two steps without a lock, so threads can send a higher id
	// first, and a server must then end the connection (RFC 9113 5.1.1).
	script := `
import sys, asyncio, httpx
base, n, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
async def main():
    async with httpx.AsyncClient(http1=False, http2=True, timeout=10, verify=ca or True) as c:
        async def one(i):
            if i % 2:
                body = ("%d-" % i).encode() * 1000
                r = await c.post(base + "/echo", content=body)
                return r.http_version == "HTTP/2" and r.status_code == 200 and r.content == body
            r = await c.get(base + "/hello")
            return r.http_version == "HTTP/2" and r.status_code == 200 and r.text == "Hello, World!"
        print(sum(await asyncio.gather(*(one(i) for i in range(n)))))
asyncio.run(main())
`
	out, err := exec.Command(python, "-c", script, ts.url(""), "40", ts.caFile).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "40" {
		t.Fatalf("httpx: %v\n%s", err, out)
	}
	if n := ts.Connections(); n > 1 {
		t.Errorf("%d connections, want 1 (multiplexed)", n)
	}
}

// TestH2Load is a short h2load run, over h2c and over TLS: every request must succeed.
func TestH2Load(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) { h2Load(t, tr.start(t, Config{}, nil)) })
}

func h2Load(t *testing.T, ts *testServer) {
	h2load := tool(t, "h2load")
	out, err := exec.Command(h2load, "-n", "4000", "-c", "4", "-m", "16", ts.url("/hello")).CombinedOutput()
	if err != nil {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "requests:") || strings.HasPrefix(l, "finished in") || strings.HasPrefix(l, "status codes:") {
			line += strings.TrimSpace(l) + "; "
		}
	}
	t.Logf("h2load: %s", line)
	if ts.tlsClient != nil && !strings.Contains(string(out), "Application protocol: h2") {
		t.Fatalf("h2load did not negotiate h2 over TLS:\n%s", out)
	}
	if !strings.Contains(line, "4000 succeeded, 0 failed, 0 errored") || !strings.Contains(line, "4000 2xx") {
		t.Fatalf("h2load:\n%s", out)
	}
}

func TestH2Disabled(t *testing.T) {
	ts := startServer(t, Config{DisableHTTP2: true}, nil)
	out := h2curl(t, "--http2", "-w", " %{http_version}", ts.url("/hello"))
	if out != "Hello, World! 1.1" {
		t.Fatalf("upgrade with HTTP/2 off: %q", out)
	}
	c := ts.dial(t)
	io.WriteString(c, http2.ClientPreface)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	if !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		t.Fatalf("prior knowledge with HTTP/2 off got %q", b)
	}
}

// rawH2 is a hand-driven HTTP/2 client for protocol-level and attack tests.
type rawH2 struct {
	t   testing.TB
	nc  net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	blk bytes.Buffer
}

func dialH2(t testing.TB, addr string, settings ...http2.Setting) *rawH2 {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	r := &rawH2{t: t, nc: nc}
	r.fr = http2.NewFramer(nc, nc)
	r.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	r.fr.AllowIllegalWrites = true
	r.enc = hpack.NewEncoder(&r.blk)
	if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	r.fr.WriteSettings(settings...)
	return r
}

func (r *rawH2) block(pairs ...string) []byte {
	r.blk.Reset()
	for i := 0; i+1 < len(pairs); i += 2 {
		r.enc.WriteField(hpack.HeaderField{Name: pairs[i], Value: pairs[i+1]})
	}
	return bytes.Clone(r.blk.Bytes())
}

func (r *rawH2) request(id uint32, method, path string, end bool) {
	r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: end,
		BlockFragment: r.block(":method", method, ":scheme", "http", ":authority", "x", ":path", path)})
}

// until reads frames until match returns true (and returns that frame) or the
// connection ends (nil).
func (r *rawH2) until(d time.Duration, match func(http2.Frame) bool) http2.Frame {
	r.t.Helper()
	r.nc.SetReadDeadline(time.Now().Add(d))
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				r.t.Fatalf("no matching frame within %v", d)
			}
			return nil
		}
		if _, ok := f.(*http2.SettingsFrame); ok && !f.(*http2.SettingsFrame).IsAck() {
			r.fr.WriteSettingsAck()
		}
		if match(f) {
			return f
		}
	}
}

func (r *rawH2) wantGoAway(d time.Duration, code http2.ErrCode) {
	r.t.Helper()
	f := r.until(d, func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if f == nil {
		r.t.Fatalf("connection closed without GOAWAY %v", code)
	}
	if g := f.(*http2.GoAwayFrame); g.ErrCode != code {
		r.t.Fatalf("GOAWAY %v, want %v (%q)", g.ErrCode, code, g.DebugData())
	}
}

func (r *rawH2) wantClosed(d time.Duration) {
	r.t.Helper()
	if f := r.until(d, func(http2.Frame) bool { return false }); f != nil {
		r.t.Fatal("unreachable")
	}
}

func (r *rawH2) wantStatus(d time.Duration, id uint32) string {
	r.t.Helper()
	f := r.until(d, func(f http2.Frame) bool {
		h, ok := f.(*http2.MetaHeadersFrame)
		return ok && h.StreamID == id
	})
	if f == nil {
		r.t.Fatalf("connection closed before the response of stream %d", id)
	}
	return f.(*http2.MetaHeadersFrame).PseudoValue("status")
}

// TestH2GracefulShutdownGoAway: Shutdown sends GOAWAY NO_ERROR with the last processed
// stream, the stream in flight completes, new streams are not processed, then the
// connection closes.
func TestH2GracefulShutdownGoAway(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	r := dialH2(t, ts.addr)
	r.request(1, "GET", "/slow", true)
	ts.waitSlowStarted(t, 1)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	f := r.until(5*time.Second, func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if g, ok := f.(*http2.GoAwayFrame); !ok || g.ErrCode != http2.ErrCodeNo || g.LastStreamID != 1 {
		t.Fatalf("want GOAWAY NO_ERROR last=1, got %v", f)
	}
	r.request(3, "GET", "/hello", true) // after the GOAWAY: ignored
	var body []byte
	for f := r.until(5*time.Second, func(http2.Frame) bool { return true }); f != nil; f = r.until(5*time.Second, func(http2.Frame) bool { return true }) {
		switch f := f.(type) {
		case *http2.DataFrame:
			if f.StreamID != 1 {
				t.Fatalf("stream %d answered after GOAWAY", f.StreamID)
			}
			body = append(body, f.Data()...)
		case *http2.MetaHeadersFrame:
			if f.StreamID != 1 {
				t.Fatalf("stream %d answered after GOAWAY", f.StreamID)
			}
		}
	}
	if string(body) != "slow done" {
		t.Fatalf("in-flight stream got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestH2PeerGoAway: a client's GOAWAY lets its streams in flight finish, then the
// server closes the connection.
func TestH2PeerGoAway(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	r := dialH2(t, ts.addr)
	r.request(1, "GET", "/slow", true)
	r.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	if s := r.wantStatus(5*time.Second, 1); s != "200" {
		t.Fatalf("status %s", s)
	}
	r.wantClosed(5 * time.Second)
}

// TestH2KeepAliveIdleTimeout: a connection without streams for KeepAliveTimeout gets
// GOAWAY NO_ERROR and is closed; one with a stream in flight is not.
func TestH2KeepAliveIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{KeepAliveTimeout: 300 * time.Millisecond}, nil)
	r := dialH2(t, ts.addr)
	r.request(1, "GET", "/slow", true) // 300 ms in flight: longer than the idle timeout
	if s := r.wantStatus(5*time.Second, 1); s != "200" {
		t.Fatalf("status %s", s)
	}
	start := time.Now()
	r.wantGoAway(5*time.Second, http2.ErrCodeNo)
	r.wantClosed(5 * time.Second)
	if d := time.Since(start); d < 200*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed %v after the last response, want about 300ms", d)
	}
}
