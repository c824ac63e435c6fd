package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// testApp is the app the integration tests run; each path exercises one behaviour.
type testApp struct {
	streamSent   atomic.Int64 // bytes /flood managed to send
	slowStarted  atomic.Int32 // /slow requests the app has begun
	disconnected chan string  // what /stream saw when the client left
	release      chan struct{}
}

func newTestApp() *testApp {
	return &testApp{disconnected: make(chan string, 16), release: make(chan struct{})}
}

func (a *testApp) Inline(scope asgi.Scope) bool {
	s, ok := scope.(*asgi.HTTPScope)
	return ok && s.Path == "/hello"
}

func respond(ctx context.Context, send asgi.Send, status int, body string, headers ...string) error {
	h := asgi.H(append([]string{"content-type", "text/plain"}, headers...)...)
	if err := send(ctx, &asgi.HTTPResponseStart{Status: status, Headers: h}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
}

func readBody(ctx context.Context, receive asgi.Receive) ([]byte, error) {
	var body []byte
	for {
		m, err := receive(ctx)
		if err != nil {
			return nil, err
		}
		switch m := m.(type) {
		case *asgi.HTTPRequest:
			body = append(body, m.Body...)
			if !m.MoreBody {
				return body, nil
			}
		case *asgi.HTTPDisconnect:
			return body, asgi.ErrDisconnected
		}
	}
}

func (a *testApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	switch s.Path {
	case "/hello":
		return respond(ctx, send, 200, "Hello, World!")
	case "/echo":
		body, err := readBody(ctx, receive)
		if err != nil {
			return err
		}
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", strconv.Itoa(len(body)))}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: body})
	case "/sha256":
		// The scenario, not synchronisation: reads slowly, so the server has to spool
		// what the client sends meanwhile.
		time.Sleep(300 * time.Millisecond)
		h := sha256.New()
		n := 0
		for {
			m, err := receive(ctx)
			if err != nil {
				return err
			}
			req, ok := m.(*asgi.HTTPRequest)
			if !ok {
				return asgi.ErrDisconnected
			}
			h.Write(req.Body)
			n += len(req.Body)
			if !req.MoreBody {
				break
			}
		}
		return respond(ctx, send, 200, fmt.Sprintf("%d %x", n, h.Sum(nil)))
	case "/stream":
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		for i := 0; ; i++ {
			if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte(fmt.Sprintf("chunk %d\n", i)), MoreBody: true}); err != nil {
				m, _ := receive(ctx)
				a.disconnected <- fmt.Sprintf("%v %s", err, m.Type())
				return nil
			}
			if q := string(s.QueryString); q != "" {
				if n, _ := strconv.Atoi(q); i+1 >= n {
					return send(ctx, &asgi.HTTPResponseBody{})
				}
			}
			time.Sleep(5 * time.Millisecond) // pacing: a stream that goes on until stopped
		}
	case "/flood":
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		chunk := make([]byte, 1<<20)
		for {
			if err := send(ctx, &asgi.HTTPResponseBody{Body: chunk, MoreBody: true}); err != nil {
				return nil
			}
			a.streamSent.Add(int64(len(chunk)))
		}
	case "/slow":
		a.slowStarted.Add(1)
		wait := 300 * time.Millisecond
		if string(s.QueryString) == "hold" {
			wait = 10 * time.Second // held until the test releases it
		}
		select {
		case <-a.release:
		case <-time.After(wait):
		}
		return respond(ctx, send, 200, "slow done")
	case "/panic":
		panic("boom")
	case "/fail-after-start":
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", "100")}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("partial"), MoreBody: true}); err != nil {
			return err
		}
		return errors.New("app failed mid-response")
	case "/trailers":
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Trailers: true, Headers: asgi.H("trailer", "x-sum, x-count")}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("abc"), MoreBody: true}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("def")}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.HTTPResponseTrailers{Headers: asgi.H("x-sum", "123"), MoreTrailers: true}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseTrailers{Headers: asgi.H("x-count", "6")})
	case "/early-hints":
		for _, link := range []string{"</app.css>; rel=preload; as=style", "</app.js>; rel=preload; as=script"} {
			if err := send(ctx, &asgi.HTTPResponseEarlyHint{Links: [][]byte{[]byte(link)}}); err != nil {
				return err
			}
		}
		return respond(ctx, send, 200, "hinted", "link", "</app.css>; rel=preload; as=style")
	case "/early-hint-late":
		// A hint after the start is the app's error; the response goes on.
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		err := send(ctx, &asgi.HTTPResponseEarlyHint{Links: [][]byte{[]byte("</late.css>; rel=preload")}})
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte(fmt.Sprint(err))})
	case "/no-response":
		return nil
	case "/bad-header":
		return respond(ctx, send, 200, "x", "x-injected", "a\r\nSet-Cookie: evil=1")
	case "/scope":
		return respond(ctx, send, 200, fmt.Sprintf("%s|%s|%s|%s|%s", s.Method, s.Path, s.RawPath, s.QueryString, s.HTTPVersion))
	}
	return respond(ctx, send, 404, "not found")
}

type testServer struct {
	*Server
	addr string
	app  *testApp
	logs *testutil.LogBuffer
	// tlsClient, when set, is the client configuration of addr, a TLS listener
	// (startTLSServer): dial and url speak TLS.
	tlsClient *tls.Config
	caFile    string // the PEM file of the CA that signed a TLS listener's certificate
}

// startServer runs a server for app (a testApp if nil) on 127.0.0.1:0.
func startServer(t testing.TB, cfg Config, app asgi.App) *testServer {
	t.Helper()
	ta := newTestApp()
	if app == nil {
		app = ta
	}
	cfg.Binds = []string{"127.0.0.1:0"}
	srv, logs := startListeners(t, cfg, app)
	return &testServer{Server: srv, addr: srv.Addrs()[0].String(), app: ta, logs: logs}
}

func (ts *testServer) url(path string) string {
	if ts.tlsClient != nil {
		return "https://" + ts.addr + path
	}
	return "http://" + ts.addr + path
}

// waitSlowStarted waits until the app has begun n /slow requests in all.
func (ts *testServer) waitSlowStarted(t testing.TB, n int32) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("%d /slow requests in the app", n), func() bool {
		return ts.app.slowStarted.Load() >= n
	})
}

// waitSendBlocked waits until /flood's send has made no progress for 100 ms.
func (ts *testServer) waitSendBlocked(t testing.TB) {
	t.Helper()
	last, since := int64(-1), time.Now()
	testutil.WaitFor(t, 10*time.Second, "the app's send to block", func() bool {
		if n := ts.app.streamSent.Load(); n != last {
			last, since = n, time.Now()
		}
		// Long enough that a goroutine starved by a busy machine does not pass for
		// a blocked one.
		return last > 0 && time.Since(since) >= 400*time.Millisecond
	})
}

// waitSendResumed waits until /flood's send has sent more than before.
func (ts *testServer) waitSendResumed(t testing.TB, before int64) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, "send to resume after the client read", func() bool {
		return ts.app.streamSent.Load() != before
	})
}

func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if ts.tlsClient != nil {
		tc := tls.Client(c, ts.tlsClient)
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS handshake: %v", err)
		}
		return tc
	}
	return c
}

// roundTrip writes raw and reads one response.
func roundTrip(t testing.TB, c net.Conn, br *bufio.Reader, raw string, method string) *http.Response {
	t.Helper()
	if raw != "" {
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp
}

func body(t testing.TB, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

func TestHelloKeepAliveNetHTTPClient(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var conns atomic.Int32
	for i := 0; i < 50; i++ {
		resp, err := client.Get(ts.url("/hello"))
		if err != nil {
			t.Fatal(err)
		}
		if got := body(t, resp); got != "Hello, World!" || resp.StatusCode != 200 {
			t.Fatalf("got %d %q", resp.StatusCode, got)
		}
		if resp.Header.Get("Date") == "" || resp.Header.Get("Server") == "" || resp.ContentLength != 13 {
			t.Fatalf("missing Date/Server/Content-Length: %v", resp.Header)
		}
	}
	if n := ts.Connections(); n != 1 {
		t.Fatalf("keep-alive: %d connections open, want 1 (%d)", n, conns.Load())
	}
}

func TestEchoBodies(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	for _, size := range []int{0, 1, 1000, 64 << 10, 3 << 20} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/chunked=%v", size, chunked), func(t *testing.T) {
				payload := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
				var rd io.Reader = bytes.NewReader(payload)
				if chunked {
					rd = io.MultiReader(rd) // hides the length: net/http sends chunked
				}
				req, _ := http.NewRequest("POST", ts.url("/echo"), rd)
				if !chunked {
					req.ContentLength = int64(size)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got := body(t, resp)
				if got != string(payload) {
					t.Fatalf("echo mismatch: sent %d bytes, got %d", size, len(got))
				}
			})
		}
	}
}

func TestPipelinedResponsesInOrder(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	reqs := "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" +
		"GET /scope?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(c, reqs); err != nil {
		t.Fatal(err)
	}
	want := []string{"slow done", "hello", "Hello, World!", "GET|/scope|/scope|a=1|1.1"}
	for i, w := range want {
		resp := roundTrip(t, c, br, "", "GET")
		if got := body(t, resp); got != w {
			t.Fatalf("response %d = %q, want %q", i, got, w)
		}
	}
}

func TestHeadHasNoBody(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	resp := roundTrip(t, c, br, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD")
	if resp.ContentLength != 13 {
		t.Fatalf("HEAD content-length = %d", resp.ContentLength)
	}
	// The next response must follow immediately: no body bytes in between.
	resp = roundTrip(t, c, br, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if got := body(t, resp); got != "Hello, World!" {
		t.Fatalf("after HEAD: %q", got)
	}
}

func TestHTTP10(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	t.Run("close by default", func(t *testing.T) {
		c := ts.dial(t)
		resp := roundTrip(t, c, bufio.NewReader(c), "GET /hello HTTP/1.0\r\n\r\n", "GET")
		if body(t, resp) != "Hello, World!" || !resp.Close {
			t.Fatalf("HTTP/1.0 without keep-alive must close")
		}
	})
	t.Run("keep-alive", func(t *testing.T) {
		c := ts.dial(t)
		br := bufio.NewReader(c)
		for i := 0; i < 3; i++ {
			resp := roundTrip(t, c, br, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET")
			if body(t, resp) != "Hello, World!" || resp.Close {
				t.Fatalf("HTTP/1.0 keep-alive closed: %v", resp.Header)
			}
		}
	})
	t.Run("streaming is close-delimited", func(t *testing.T) {
		c := ts.dial(t)
		if _, err := io.WriteString(c, "GET /stream?3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		all, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(all, []byte("chunk 0\nchunk 1\nchunk 2\n")) || bytes.Contains(all, []byte("chunked")) {
			t.Fatalf("close-delimited body expected, got %q", all)
		}
	})
}

func TestChunkedStreamingResponse(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	resp, err := http.Get(ts.url("/stream?4"))
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); got != "chunk 0\nchunk 1\nchunk 2\nchunk 3\n" || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("got %q %v", got, resp.TransferEncoding)
	}
}

func TestBadRequestsCloseWithStatus(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	tests := []struct {
		name, raw string
		status    int
	}{
		{"CL and TE", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"conflicting CL", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"obs-fold", "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400},
		{"missing host", "GET /hello HTTP/1.1\r\n\r\n", 400},
		{"bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
		{"unknown coding", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501},
		{"bad version", "GET /hello HTTP/3.0\r\nHost: x\r\n\r\n", 505},
		{"head too large", "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial(t)
			br := bufio.NewReader(c)
			resp := roundTrip(t, c, br, tt.raw, "GET")
			body(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				t.Fatalf("connection not closed after %d: %v", tt.status, err)
			}
		})
	}
}

func TestSmugglingAttemptNeverReachesApp(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	raw := "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /panic HTTP/1.1\r\nHost: x\r\n\r\n"
	resp := roundTrip(t, c, br, raw, "POST")
	body(t, resp)
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatal("smuggled request was answered")
	}
	if strings.Contains(ts.logs.String(), "boom") {
		t.Fatal("smuggled request reached the app")
	}
}

func TestHeaderTimeoutClosesSlowClientOthersServed(t *testing.T) {
	ts := startServer(t, Config{HeaderTimeout: 300 * time.Millisecond}, nil)
	slow := ts.dial(t)
	if _, err := io.WriteString(slow, "GET /hello HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// Meanwhile another client is served promptly.
	for i := 0; i < 5; i++ {
		resp, err := http.Get(ts.url("/hello"))
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
	}
	br := bufio.NewReader(slow)
	resp := roundTrip(t, slow, br, "", "GET")
	body(t, resp)
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v, want about 300ms", d)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("not closed: %v", err)
	}
}

func TestKeepAliveIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{KeepAliveTimeout: 200 * time.Millisecond}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	body(t, roundTrip(t, c, br, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET"))
	start := time.Now()
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("idle close after %v", d)
	}
}

func TestBodyTimeout(t *testing.T) {
	ts := startServer(t, Config{BodyTimeout: 300 * time.Millisecond}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	resp := roundTrip(t, c, br, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", "POST")
	body(t, resp)
	if resp.StatusCode != 408 {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
}

func TestExpectContinueSentWhenAppReceives(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("want 100 Continue, got %q %v", line, err)
	}
	if l, _ := br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("bad 100 response end %q", l)
	}
	resp := roundTrip(t, c, br, "hello", "POST")
	if got := body(t, resp); got != "hello" {
		t.Fatalf("got %q", got)
	}
}

func TestAppPanicGives500AndServerSurvives(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	resp, err := http.Get(ts.url("/panic"))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !strings.Contains(ts.logs.String(), "boom") {
		t.Fatal("panic not logged")
	}
	resp, err = http.Get(ts.url("/hello"))
	if err != nil || body(t, resp) != "Hello, World!" {
		t.Fatalf("server did not survive: %v", err)
	}
}

func TestAppReturnsWithoutResponseGives500(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	resp, err := http.Get(ts.url("/no-response"))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestAppFailureAfterStartAbortsConnection(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	resp, err := http.Get(ts.url("/fail-after-start"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	if err == nil {
		t.Fatal("truncated response read without error")
	}
}

func TestHeaderInjectionRefused(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, "GET /bad-header HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(br)
	if bytes.Contains(all, []byte("evil")) || !bytes.HasPrefix(all, []byte("HTTP/1.1 500")) {
		t.Fatalf("injected header written or no 500: %q", all)
	}
}

func TestClientDisconnectStopsStreamingApp(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	if _, err := io.WriteString(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case got := <-ts.app.disconnected:
		if got != "asgi: client disconnected http.disconnect" {
			t.Fatalf("app saw %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("streaming app did not notice the disconnect")
	}
}

func TestSendBlocksWhenClientDoesNotRead(t *testing.T) {
	ts := startServer(t, Config{WriteHighWater: 256 << 10}, nil)
	c := ts.dial(t)
	if _, err := io.WriteString(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	ts.waitSendBlocked(t)
	first := ts.app.streamSent.Load()
	time.Sleep(500 * time.Millisecond) // the scenario: a blocked send stays blocked
	second := ts.app.streamSent.Load()
	// The kernel's socket buffers hold a few MiB; beyond that send must block.
	if second > 32<<20 || second != first {
		t.Fatalf("send did not block: %d MiB then %d MiB accepted from the app", first>>20, second>>20)
	}
	// Reading resumes the flow.
	if _, err := io.CopyN(io.Discard, c, 8<<20); err != nil {
		t.Fatal(err)
	}
	ts.waitSendResumed(t, second)
}

func TestSlowAppBodyIsSpooledAndIntact(t *testing.T) {
	ts := startServer(t, Config{BodyMemoryBytes: 64 << 10, BodyMemoryShared: -1}, nil)
	payload := bytes.Repeat([]byte("asgo spool test "), (16<<20)/16)
	sum := sha256.Sum256(payload)
	resp, err := http.Post(ts.url("/sha256"), "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d %x", len(payload), sum)
	if got := body(t, resp); got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestMaxBodySize(t *testing.T) {
	ts := startServer(t, Config{MaxBodyBytes: 1000}, nil)
	resp, err := http.Post(ts.url("/echo"), "text/plain", strings.NewReader(strings.Repeat("a", 2000)))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 413 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	resp, err = http.Post(ts.url("/echo"), "text/plain", io.MultiReader(strings.NewReader(strings.Repeat("a", 2000))))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 413 {
		t.Fatalf("chunked: status %d", resp.StatusCode)
	}
}

func TestLimitConcurrency(t *testing.T) {
	ts := startServer(t, Config{LimitConcurrency: 1}, nil)
	done := make(chan int)
	go func() { // not the test's goroutine: a failure reports status 0
		resp, err := http.Get(ts.url("/slow"))
		if err != nil {
			done <- 0
			return
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			done <- 0
			return
		}
		done <- resp.StatusCode
	}()
	ts.waitSlowStarted(t, 1)
	resp, err := http.Get(ts.url("/slow"))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != 503 {
		t.Fatalf("second request: %d, want 503", resp.StatusCode)
	}
	if s := <-done; s != 200 {
		t.Fatalf("first request: %d", s)
	}
}

func TestMaxConnections(t *testing.T) {
	ts := startServer(t, Config{MaxConnections: 2, Loops: 1}, nil)
	a, b := ts.dial(t), ts.dial(t)
	_, _ = a, b
	testutil.WaitFor(t, 5*time.Second, "2 connections counted", func() bool { return ts.Connections() == 2 })
	c := ts.dial(t)
	resp := roundTrip(t, c, bufio.NewReader(c), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	body(t, resp)
	if resp.StatusCode != 503 {
		t.Fatalf("third connection: %d, want 503", resp.StatusCode)
	}
}

func TestGracefulShutdownCompletesInFlight(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	const n = 20
	results := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				results <- err.Error()
				return
			}
			defer c.Close()
			io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				results <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			results <- fmt.Sprintf("%s close=%v", b, resp.Close)
		}()
	}
	ts.waitSlowStarted(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for i := 0; i < n; i++ {
		if got := <-results; got != "slow done close=true" {
			t.Fatalf("in-flight request %d: %s", i, got)
		}
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}

func TestUnreadBodyIsDiscardedAndConnectionReused(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	big := strings.Repeat("z", 200<<10)
	resp := roundTrip(t, c, br, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(big))+"\r\n\r\n"+big, "POST")
	if got := body(t, resp); got != "Hello, World!" {
		t.Fatalf("got %q", got)
	}
	resp = roundTrip(t, c, br, "GET /scope HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if got := body(t, resp); got != "GET|/scope|/scope||1.1" {
		t.Fatalf("next request on the connection: %q", got)
	}
}

func TestPercentDecodedPathAndRawPath(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	resp := roundTrip(t, c, bufio.NewReader(c), "GET /sc%6Fpe?q=%20 HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	if got := body(t, resp); got != "GET|/scope|/sc%6Fpe|q=%20|1.1" {
		t.Fatalf("got %q", got)
	}
}

func TestResponseTrailers(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	resp, err := http.Get(ts.url("/trailers"))
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); got != "abcdef" {
		t.Fatalf("body %q", got)
	}
	if resp.Trailer.Get("X-Sum") != "123" || resp.Trailer.Get("X-Count") != "6" {
		t.Fatalf("trailers %v", resp.Trailer)
	}
}

func TestExpectContinueRefusedWithoutReadingBody(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	// /hello never reads the body: the final response comes at once, no 100, and the
	// connection closes because the client may not send the announced body.
	resp := roundTrip(t, c, br, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n", "POST")
	if got := body(t, resp); got != "Hello, World!" || !resp.Close {
		t.Fatalf("got %q close=%v", got, resp.Close)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection not closed: %v", err)
	}
}

// TestNextRequestFollowsWireCompleteResponse: a response is complete once its
// Content-Length is reached, before the app sends its final, empty body message. A
// client that then sends a request larger than MaxPipelinedBytes is served at once,
// not cut as pipelining, while the first call still runs; the final message, when it
// comes, queues nothing.
func TestNextRequestFollowsWireCompleteResponse(t *testing.T) {
	release, finalSent := make(chan struct{}), make(chan error, 1)
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		if scope.(*asgi.HTTPScope).Path == "/first" {
			if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", "5")}); err != nil {
				return err
			}
			if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("first"), MoreBody: true}); err != nil {
				return err
			}
			<-release
			err := send(ctx, &asgi.HTTPResponseBody{})
			finalSent <- err
			return err
		}
		b, err := readBody(ctx, receive)
		if err != nil {
			return err
		}
		return respond(ctx, send, 200, strconv.Itoa(len(b)))
	})
	const limit = 256 << 10
	ts := startServer(t, Config{Loops: 1, MaxPipelinedBytes: limit}, app)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	if got := body(t, roundTrip(t, c, br, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n", "GET")); got != "first" {
		t.Fatalf("first response %q", got)
	}
	upload := strings.Repeat("x", 4*limit)
	resp := roundTrip(t, c, br, fmt.Sprintf("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(upload), upload), "POST")
	if got := body(t, resp); got != strconv.Itoa(len(upload)) {
		t.Fatalf("second response %q", got)
	}
	close(release)
	if err := <-finalSent; err != nil {
		t.Fatalf("the first call's final message: %v", err)
	}
	if got := body(t, roundTrip(t, c, br, "POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "POST")); got != "3" {
		t.Fatalf("third response %q", got)
	}
	if strings.Contains(ts.logs.String(), "pipelines too much input") {
		t.Fatal("the connection was cut as pipelining")
	}
}

func TestPipelineFloodIsCut(t *testing.T) {
	ts := startServer(t, Config{MaxPipelinedBytes: 64 << 10}, nil)
	c := ts.dial(t)
	flood := strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", (1<<20)/32)
	go func() { _, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"+flood) }()
	_, err := io.Copy(io.Discard, c)
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("want the connection closed, got %v", err)
	}
	if !strings.Contains(ts.logs.String(), "pipelines too much input") {
		t.Fatal("no log line for the cut connection")
	}
	resp, err := http.Get(ts.url("/hello"))
	if err != nil || body(t, resp) != "Hello, World!" {
		t.Fatalf("other clients must still be served: %v", err)
	}
}
