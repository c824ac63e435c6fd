package eventloop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// The app-level integration scenarios, each with one test body run over two protocols
// and two transports: HTTP/1.1 (net/http's client) and h2c with prior knowledge
// (x/net/http2's client) over TCP, HTTP/1.1 and HTTP/2 chosen by ALPN over TLS.

type protoMode struct {
	name   string
	major  int
	tls    bool
	client func(ts *testServer) *http.Client
}

var protoModes = []protoMode{
	{"http1", 1, false, func(*testServer) *http.Client {
		return &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
	}},
	{"h2c", 2, false, func(*testServer) *http.Client { return h2cClient() }},
	{"https1", 1, true, func(ts *testServer) *http.Client { return tlsClient(ts.tlsClient, false) }},
	{"h2-tls", 2, true, func(ts *testServer) *http.Client { return tlsClient(ts.tlsClient, true) }},
}

// bothProtocols runs f once per protocol and transport, each against a fresh server
// for app (the testApp when nil).
func bothProtocols(t *testing.T, cfg Config, app asgi.App, f func(t *testing.T, ts *testServer, client *http.Client, major int)) {
	for _, m := range protoModes {
		t.Run(m.name, func(t *testing.T) {
			var ts *testServer
			if m.tls {
				ts = startTLSServer(t, cfg, app).testServer
			} else {
				ts = startServer(t, cfg, app)
			}
			client := m.client(ts)
			t.Cleanup(client.CloseIdleConnections)
			f(t, ts, client, m.major)
		})
	}
}

func do(t *testing.T, client *http.Client, major int, method, url string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	if resp.ProtoMajor != major {
		t.Fatalf("served over HTTP/%d, want HTTP/%d", resp.ProtoMajor, major)
	}
	return resp, string(b)
}

func TestBothHello(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		for i := 0; i < 3; i++ { // reuses the connection
			resp, b := do(t, client, major, "GET", ts.url("/hello"), nil)
			if resp.StatusCode != 200 || b != "Hello, World!" || resp.Header.Get("Content-Type") != "text/plain" {
				t.Fatalf("%d %q %v", resp.StatusCode, b, resp.Header)
			}
		}
	})
}

func TestBothScope(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		_, b := do(t, client, major, "GET", ts.url("/sc%6Fpe?x=1&y=%20"), nil)
		version := map[int]string{1: "1.1", 2: "2"}[major]
		if want := "GET|/scope|/sc%6Fpe|x=1&y=%20|" + version; b != want {
			t.Fatalf("scope %q, want %q", b, want)
		}
	})
}

func TestBothEchoBodies(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		for _, size := range []int{0, 1, 1000, 64 << 10, 3 << 20} {
			for _, known := range []bool{true, false} {
				payload := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
				var rd io.Reader = bytes.NewReader(payload)
				if !known {
					rd = io.MultiReader(rd) // hides the length
				}
				resp, b := do(t, client, major, "POST", ts.url("/echo"), rd)
				if resp.StatusCode != 200 || b != string(payload) {
					t.Fatalf("size %d known=%v: status %d, %d bytes back", size, known, resp.StatusCode, len(b))
				}
			}
		}
	})
}

func TestBothSlowAppBodyIsIntact(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		payload := bytes.Repeat([]byte("slow app, fast client "), 400_000) // 8.8 MB
		_, b := do(t, client, major, "POST", ts.url("/sha256"), bytes.NewReader(payload))
		if want := fmt.Sprintf("%d %x", len(payload), sha256.Sum256(payload)); b != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	})
}

func TestBothStreamingResponse(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		_, b := do(t, client, major, "GET", ts.url("/stream?5"), nil)
		if b != "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n" {
			t.Fatalf("got %q", b)
		}
	})
}

func TestBothHeadHasNoBody(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		resp, b := do(t, client, major, "HEAD", ts.url("/hello"), nil)
		if resp.StatusCode != 200 || b != "" {
			t.Fatalf("%d %q", resp.StatusCode, b)
		}
	})
}

func TestBothAppFailures(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		for _, path := range []string{"/panic", "/no-response", "/bad-header"} {
			resp, b := do(t, client, major, "GET", ts.url(path), nil)
			if resp.StatusCode != 500 || strings.Contains(b, "evil") || resp.Header.Get("X-Injected") != "" {
				t.Fatalf("%s: %d %q %v", path, resp.StatusCode, b, resp.Header)
			}
		}
		resp, err := client.Get(ts.url("/fail-after-start"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Fatal("truncated response read without error")
		}
		resp.Body.Close()
		if _, b := do(t, client, major, "GET", ts.url("/hello"), nil); b != "Hello, World!" {
			t.Fatalf("server did not survive: %q", b)
		}
	})
}

func TestBothClientDisconnectStopsStreamingApp(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.url("/stream"), nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := resp.Body.Read(make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		cancel() // HTTP/1.1: the connection closes; HTTP/2: RST_STREAM CANCEL
		resp.Body.Close()
		select {
		case got := <-ts.app.disconnected:
			if got != "asgi: client disconnected http.disconnect" {
				t.Fatalf("app saw %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("streaming app did not notice the disconnect")
		}
	})
}

func TestBothSendBlocksWhenClientDoesNotRead(t *testing.T) {
	bothProtocols(t, Config{WriteHighWater: 256 << 10}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		resp, err := client.Get(ts.url("/flood"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		ts.waitSendBlocked(t)
		first := ts.app.streamSent.Load()
		time.Sleep(500 * time.Millisecond) // the scenario: a blocked send stays blocked
		second := ts.app.streamSent.Load()
		// Socket buffers (and for HTTP/2 the client's 4 MiB stream window) hold a few
		// MiB; beyond that send must block.
		if second > 32<<20 || second != first {
			t.Fatalf("send did not block: %d MiB then %d MiB accepted from the app", first>>20, second>>20)
		}
		if _, err := io.CopyN(io.Discard, resp.Body, 16<<20); err != nil {
			t.Fatal(err)
		}
		ts.waitSendResumed(t, second)
	})
}

func TestBothMaxBodySize(t *testing.T) {
	bothProtocols(t, Config{MaxBodyBytes: 1000}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		for _, known := range []bool{true, false} {
			var rd io.Reader = strings.NewReader(strings.Repeat("a", 2000))
			if !known {
				rd = io.MultiReader(rd)
			}
			resp, _ := do(t, client, major, "POST", ts.url("/echo"), rd)
			if resp.StatusCode != 413 {
				t.Fatalf("known length %v: status %d", known, resp.StatusCode)
			}
		}
	})
}

func TestBothLimitConcurrency(t *testing.T) {
	bothProtocols(t, Config{LimitConcurrency: 1}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		done := make(chan int)
		go func() {
			resp, err := client.Get(ts.url("/slow?hold"))
			if err != nil {
				done <- 0
				return
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		ts.waitSlowStarted(t, 1)
		resp, _ := do(t, client, major, "GET", ts.url("/slow"), nil)
		ts.app.release <- struct{}{} // the first request may finish now
		if resp.StatusCode != 503 {
			t.Fatalf("second request: %d, want 503", resp.StatusCode)
		}
		if s := <-done; s != 200 {
			t.Fatalf("first request: %d", s)
		}
	})
}

func TestBothGracefulShutdownCompletesInFlight(t *testing.T) {
	bothProtocols(t, Config{}, nil, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		const n = 10
		results := make(chan string, n)
		for i := 0; i < n; i++ {
			go func() {
				resp, err := client.Get(ts.url("/slow"))
				if err != nil {
					results <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				results <- string(b)
			}()
		}
		ts.waitSlowStarted(t, n)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		for i := 0; i < n; i++ {
			if got := <-results; got != "slow done" {
				t.Fatalf("in-flight request %d: %s", i, got)
			}
		}
	})
}

// trailersApp answers with a body and announced trailers, and pathsends a file on /file.
func trailersApp(file string) asgi.App {
	return asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		if scope.(*asgi.HTTPScope).Path == "/file" {
			if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
				return err
			}
			return send(ctx, &asgi.HTTPResponsePathsend{Path: file})
		}
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("trailer", "x-checksum"), Trailers: true}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("payload")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseTrailers{Headers: asgi.H("x-checksum", "abc123")})
	})
}

func TestBothTrailersAndPathsend(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	content := bytes.Repeat([]byte("pathsend "), 100_000)
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	bothProtocols(t, Config{}, trailersApp(file), func(t *testing.T, ts *testServer, client *http.Client, major int) {
		resp, b := do(t, client, major, "GET", ts.url("/"), nil)
		if b != "payload" || resp.Trailer.Get("X-Checksum") != "abc123" {
			t.Fatalf("body %q trailers %v", b, resp.Trailer)
		}
		if _, b := do(t, client, major, "GET", ts.url("/file"), nil); b != string(content) {
			t.Fatalf("pathsend: %d bytes, want %d", len(b), len(content))
		}
	})
}

// TestH2MultiplexedStreams runs many concurrent requests over one HTTP/2 connection.
func TestH2MultiplexedStreams(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	client := h2cClient()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			payload := strings.Repeat(fmt.Sprint(i), 10_000+i)
			resp, err := client.Post(ts.url("/echo"), "text/plain", strings.NewReader(payload))
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != payload {
				errs <- fmt.Errorf("stream %d: %d bytes back", i, len(b))
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := ts.Connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

// TestBothReceiveAfterResponseIsDisconnect: once the body was read and the response is
// complete, receive returns http.disconnect instead of blocking.
func TestBothReceiveAfterResponseIsDisconnect(t *testing.T) {
	got := make(chan string, 2)
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		if _, err := readBody(ctx, receive); err != nil {
			return err
		}
		if err := respond(ctx, send, 200, "done"); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		m, err := receive(ctx)
		if err != nil {
			got <- err.Error()
			return nil
		}
		got <- m.Type()
		return nil
	})
	bothProtocols(t, Config{}, app, func(t *testing.T, ts *testServer, client *http.Client, major int) {
		if _, b := do(t, client, major, "POST", ts.url("/"), strings.NewReader("body")); b != "done" {
			t.Fatalf("got %q", b)
		}
		if m := <-got; m != asgi.TypeHTTPDisconnect {
			t.Fatalf("receive after the response: %s", m)
		}
	})
}

// TestH2InlineAppWithSmallWindow: an inline app (run on the loop, never blocking) whose
// response does not fit the peer's window completes as the window opens.
func TestH2InlineAppWithSmallWindow(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	r := dialH2(t, ts.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 5})
	r.request(1, "GET", "/hello", true)
	var body []byte
	ended := false
	r.until(5*time.Second, func(f http2.Frame) bool {
		if d, ok := f.(*http2.DataFrame); ok && d.StreamID == 1 {
			body = append(body, d.Data()...)
			ended = d.StreamEnded()
		}
		return len(body) == 5
	})
	if string(body) != "Hello" || ended {
		t.Fatalf("before WINDOW_UPDATE: %q ended=%v", body, ended)
	}
	r.fr.WriteWindowUpdate(1, 100)
	r.until(5*time.Second, func(f http2.Frame) bool {
		if d, ok := f.(*http2.DataFrame); ok && d.StreamID == 1 {
			body = append(body, d.Data()...)
			ended = d.StreamEnded()
		}
		return ended
	})
	if string(body) != "Hello, World!" {
		t.Fatalf("body %q", body)
	}
}
