package asgo_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// userApp answers HTTP with "app " and the path, accepts WebSockets, and supports the
// lifespan: what the middleware passes on reaches it.
var userApp = asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte("app " + s.Path)})
	case *asgi.WebSocketScope:
		if _, err := receive(ctx); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		return send(ctx, &asgi.WebSocketClose{Code: 1000})
	case *asgi.LifespanScope:
		for {
			msg, err := receive(ctx)
			if err != nil {
				return err
			}
			switch msg.(type) {
			case *asgi.LifespanStartup:
				if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
					return err
				}
			case *asgi.LifespanShutdown:
				return send(ctx, &asgi.LifespanShutdownComplete{})
			}
		}
	}
	return errors.New("unsupported scope")
})

// serveMiddleware runs asgo.Serve with cfg on 127.0.0.1:0 and returns its address; the
// server stops when the test ends.
func serveMiddleware(t *testing.T, cfg asgo.Config) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (make deps)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg.Server.Binds = []string{"127.0.0.1:0"}
	cfg.Server.Loops = 1
	cfg.Server.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.OnReady = func(addrs []net.Addr) { ready <- addrs[0].String() }
	go func() { done <- asgo.Serve(ctx, userApp, cfg) }()
	select {
	case addr := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
		return addr
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not become ready")
	}
	return ""
}

type curlResult struct {
	status  int
	headers http.Header
	body    []byte
}

// curl fetches url with curl over HTTP/1.1 or, with h2, HTTP/2 prior knowledge, paths
// as given (--path-as-is).
func curl(t *testing.T, h2 bool, url string, args ...string) curlResult {
	t.Helper()
	dir := t.TempDir()
	cmdArgs := []string{"-sS", "--path-as-is", "--max-time", "10", "-D", filepath.Join(dir, "h"), "-o", filepath.Join(dir, "b")}
	if h2 {
		cmdArgs = append(cmdArgs, "--http2-prior-knowledge")
	} else {
		cmdArgs = append(cmdArgs, "--http1.1")
	}
	cmdArgs = append(append(cmdArgs, args...), url)
	if out, err := exec.Command("curl", cmdArgs...).CombinedOutput(); err != nil {
		t.Fatalf("curl %v: %v\n%s", cmdArgs, err, out)
	}
	head, _ := os.ReadFile(filepath.Join(dir, "h"))
	body, _ := os.ReadFile(filepath.Join(dir, "b"))
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(bytes.Replace(head, []byte("HTTP/2 "), []byte("HTTP/1.1 "), 1))), nil)
	if err != nil {
		t.Fatalf("curl headers %q: %v", head, err)
	}
	resp.Body.Close()
	if h2 != bytes.HasPrefix(head, []byte("HTTP/2 ")) {
		t.Fatalf("wrong protocol: %q", head)
	}
	return curlResult{resp.StatusCode, resp.Header, body}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// staticTree writes the served directory (and files next to it) and returns it.
func staticTree(t *testing.T) (dir string, big []byte) {
	top := t.TempDir()
	dir = filepath.Join(top, "public")
	big = bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes
	files := map[string][]byte{
		"public/digits.txt":   []byte("0123456789"),
		"public/big.bin":      big,
		"public/style.css":    []byte("body { color: red }\n"),
		"public/style.css.gz": gz("body { color: red }\n"),
		"public/index.html":   []byte("<h1>home</h1>\n"),
		"go.mod":              []byte("module secret\n"),
		"secret.txt":          []byte("secret\n"),
	}
	for name, b := range files {
		p := filepath.Join(top, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(top, "secret.txt"), filepath.Join(dir, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	return dir, big
}

func TestStaticOverTheWire(t *testing.T) {
	dir, big := staticTree(t)
	addr := serveMiddleware(t, asgo.Config{Static: []static.Config{{Prefix: "/static", Dir: dir, Index: "index.html", CacheControl: "max-age=60"}}})
	base := "http://" + addr
	for _, h2 := range []bool{false, true} {
		name := "h1"
		if h2 {
			name = "h2"
		}
		t.Run(name, func(t *testing.T) {
			r := curl(t, h2, base+"/static/digits.txt")
			if r.status != 200 || string(r.body) != "0123456789" || r.headers.Get("Cache-Control") != "max-age=60" {
				t.Fatalf("get: %d %q %v", r.status, r.body, r.headers)
			}
			etag, lastMod := r.headers.Get("Etag"), r.headers.Get("Last-Modified")

			if r := curl(t, h2, base+"/static/big.bin"); r.status != 200 || !bytes.Equal(r.body, big) {
				t.Fatalf("big (pathsend): %d, %d bytes", r.status, len(r.body))
			}
			if r := curl(t, h2, base+"/static/big.bin", "-I"); r.status != 200 || r.headers.Get("Content-Length") != "320000" {
				t.Fatalf("head: %d %q %v", r.status, r.body, r.headers)
			}
			if r := curl(t, h2, base+"/static/"); r.status != 200 || string(r.body) != "<h1>home</h1>\n" {
				t.Fatalf("index: %d %q", r.status, r.body)
			}

			// Ranges.
			r = curl(t, h2, base+"/static/big.bin", "-r", "100000-200001")
			if r.status != 206 || !bytes.Equal(r.body, big[100000:200002]) || r.headers.Get("Content-Range") != "bytes 100000-200001/320000" {
				t.Fatalf("range: %d, %d bytes, %v", r.status, len(r.body), r.headers)
			}
			r = curl(t, h2, base+"/static/digits.txt", "-r", "0-1,4-5")
			mt, params, _ := mime.ParseMediaType(r.headers.Get("Content-Type"))
			if r.status != 206 || mt != "multipart/byteranges" {
				t.Fatalf("ranges: %d %v", r.status, r.headers)
			}
			mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
			var parts []string
			for p, err := mr.NextPart(); err == nil; p, err = mr.NextPart() {
				b, _ := io.ReadAll(p)
				parts = append(parts, p.Header.Get("Content-Range")+"="+string(b))
			}
			if strings.Join(parts, ",") != "bytes 0-1/10=01,bytes 4-5/10=45" {
				t.Fatalf("parts %q", parts)
			}
			r = curl(t, h2, base+"/static/digits.txt", "-r", "10-")
			if r.status != 416 || r.headers.Get("Content-Range") != "bytes */10" {
				t.Fatalf("unsatisfiable: %d %v", r.status, r.headers)
			}

			// Conditional requests.
			if r := curl(t, h2, base+"/static/digits.txt", "-H", "If-None-Match: "+etag); r.status != 304 || len(r.body) != 0 {
				t.Fatalf("if-none-match: %d %q", r.status, r.body)
			}
			if r := curl(t, h2, base+"/static/digits.txt", "-H", "If-Modified-Since: "+lastMod); r.status != 304 {
				t.Fatalf("if-modified-since: %d", r.status)
			}
			if r := curl(t, h2, base+"/static/digits.txt", "-r", "2-3", "-H", "If-Range: "+etag); r.status != 206 || string(r.body) != "23" {
				t.Fatalf("if-range match: %d %q", r.status, r.body)
			}
			if r := curl(t, h2, base+"/static/digits.txt", "-r", "2-3", "-H", `If-Range: "stale"`); r.status != 200 || string(r.body) != "0123456789" {
				t.Fatalf("if-range stale: %d %q", r.status, r.body)
			}

			// Precompressed sibling.
			r = curl(t, h2, base+"/static/style.css", "-H", "Accept-Encoding: br;q=1, gzip;q=0.5")
			if r.status != 200 || r.headers.Get("Content-Encoding") != "gzip" || r.headers.Get("Vary") != "Accept-Encoding" ||
				!bytes.Equal(r.body, gz("body { color: red }\n")) || !strings.HasPrefix(r.headers.Get("Content-Type"), "text/css") {
				t.Fatalf("gzip sibling: %d %v", r.status, r.headers)
			}
			if r := curl(t, h2, base+"/static/style.css"); r.headers.Get("Content-Encoding") != "" || string(r.body) != "body { color: red }\n" {
				t.Fatalf("identity: %v %q", r.headers, r.body)
			}

			// Traversal.
			for _, p := range []string{"/static/../go.mod", "/static/../secret.txt", "/static/%2e%2e/go.mod", "/static/%2E%2E/secret.txt",
				"/static/digits.txt%00.png", "/static/leak.txt", "/static/..%5csecret.txt", "/static/..%2fsecret.txt"} {
				r := curl(t, h2, base+p)
				if r.status != 404 || bytes.Contains(r.body, []byte("secret")) {
					t.Errorf("%s: %d %q", p, r.status, r.body)
				}
			}

			// Methods and fall-through.
			if r := curl(t, h2, base+"/static/digits.txt", "-X", "DELETE"); r.status != 405 || r.headers.Get("Allow") != "GET, HEAD" {
				t.Fatalf("delete: %d %v", r.status, r.headers)
			}
			if r := curl(t, h2, base+"/static/nope.txt"); r.status != 200 || string(r.body) != "app /static/nope.txt" {
				t.Fatalf("miss: %d %q", r.status, r.body)
			}
			if r := curl(t, h2, base+"/elsewhere"); r.status != 200 || string(r.body) != "app /elsewhere" {
				t.Fatalf("outside: %d %q", r.status, r.body)
			}
		})
	}
}

// wsHandshake sends a WebSocket upgrade to addr and returns the response status.
func wsHandshake(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestIPFilterOverTheWire(t *testing.T) {
	dir, _ := staticTree(t)
	tests := []struct {
		name   string
		filter ipfilter.Config
		status int // HTTP; WebSocket gets 101 when this is 200, else 403
	}{
		{"denied", ipfilter.Config{Deny: []string{"127.0.0.1"}}, 403},
		{"deny wins", ipfilter.Config{Allow: []string{"127.0.0.0/8"}, Deny: []string{"127.0.0.0/24"}}, 403},
		{"not in allow list", ipfilter.Config{Allow: []string{"10.0.0.0/8", "2001:db8::/32"}}, 403},
		{"allowed", ipfilter.Config{Allow: []string{"127.0.0.0/8", "::1"}, Deny: []string{"127.0.0.2"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The filter is outermost: static files are refused too.
			addr := serveMiddleware(t, asgo.Config{IPFilter: tt.filter, Static: []static.Config{{Prefix: "/static", Dir: dir}}})
			for _, h2 := range []bool{false, true} {
				for _, p := range []string{"/", "/static/digits.txt"} {
					if r := curl(t, h2, "http://"+addr+p); r.status != tt.status {
						t.Errorf("h2 %v %s: %d, want %d", h2, p, r.status, tt.status)
					}
				}
			}
			want := 101
			if tt.status != 200 {
				want = 403
			}
			if got := wsHandshake(t, addr); got != want {
				t.Errorf("websocket: %d, want %d", got, want)
			}
		})
	}
}

func TestServeRefusesBadMiddlewareConfig(t *testing.T) {
	for name, cfg := range map[string]asgo.Config{
		"static dir": {Static: []static.Config{{Prefix: "/s", Dir: filepath.Join(t.TempDir(), "missing")}}},
		"ip":         {IPFilter: ipfilter.Config{Deny: []string{"not-an-ip"}}},
	} {
		cfg.Server.Binds = []string{"127.0.0.1:0"}
		cfg.Server.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := asgo.Serve(context.Background(), userApp, cfg); err == nil {
			t.Errorf("%s: Serve returned nil", name)
		}
	}
}
