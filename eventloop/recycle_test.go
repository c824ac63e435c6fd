package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// scopeRecorder is an inline app that answers with what its scope holds (method, path,
// query, headers) and the request body, and remembers each call's scope pointer.
// recycles is its asgi.Recycler answer.
type scopeRecorder struct {
	recycles bool
	mu       sync.Mutex
	scopes   []*asgi.HTTPScope // kept only to compare addresses, never read after the call
}

func (a *scopeRecorder) Inline(asgi.Scope) bool { return true }
func (a *scopeRecorder) Recycles() bool         { return a.recycles }

func (a *scopeRecorder) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	a.mu.Lock()
	a.scopes = append(a.scopes, s)
	a.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ?%s", s.Method, s.Path, s.QueryString)
	for _, h := range s.Headers {
		fmt.Fprintf(&b, " %s=%s", h.Name, h.Value)
	}
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		req, ok := msg.(*asgi.HTTPRequest)
		if !ok {
			return nil
		}
		if len(req.Body) > 0 {
			fmt.Fprintf(&b, " body=%s", req.Body)
		}
		if !req.MoreBody {
			break
		}
	}
	body := b.String()
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", fmt.Sprint(len(body)))}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
}

func (a *scopeRecorder) scope(i int) *asgi.HTTPScope {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.scopes[i]
}

// recycleSteps are requests of shrinking and growing size on one connection: each must
// see exactly its own path, query and headers, whatever the request before it held.
var recycleSteps = []struct{ raw, want string }{
	{"GET /a/long/path/%41?q=1&r=2 HTTP/1.1\r\nHost: x\r\nX-One: 1\r\nX-Two: 22\r\nX-Three: 333\r\n\r\n",
		"GET /a/long/path/A ?q=1&r=2 host=x x-one=1 x-two=22 x-three=333"},
	{"GET /b HTTP/1.1\r\nHost: y\r\n\r\n", "GET /b ? host=y"},
	{"HEAD /c HTTP/1.1\r\nHost: z\r\n\r\n", ""},
	{"DELETE /d/" + strings.Repeat("e", 300) + "?" + strings.Repeat("f", 100) + " HTTP/1.1\r\nHost: w\r\nX-Big: " +
		strings.Repeat("g", 500) + "\r\n\r\n",
		"DELETE /d/" + strings.Repeat("e", 300) + " ?" + strings.Repeat("f", 100) + " host=w x-big=" + strings.Repeat("g", 500)},
	{"GET /b HTTP/1.1\r\nHost: y\r\n\r\n", "GET /b ? host=y"},
	{"POST /p HTTP/1.1\r\nHost: v\r\nContent-Length: 3\r\n\r\nabc", "POST /p ? host=v content-length=3 body=abc"},
	{"POST /q HTTP/1.1\r\nHost: v\r\nContent-Length: 5\r\n\r\nhello", "POST /q ? host=v content-length=5 body=hello"},
	{"GET /b HTTP/1.1\r\nHost: y\r\n\r\n", "GET /b ? host=y"},
}

// TestInlineStreamsRecycled: for an app that keeps nothing of its inline calls
// (asgi.Recycler), a connection's requests reuse one stream and scope, and each still
// sees only its own request; for an app that makes no such promise, every request gets
// a scope of its own.
func TestInlineStreamsRecycled(t *testing.T) {
	for _, recycles := range []bool{true, false} {
		t.Run(fmt.Sprintf("recycles=%v", recycles), func(t *testing.T) {
			app := &scopeRecorder{recycles: recycles}
			ts := startServer(t, Config{Loops: 1}, app)
			c := ts.dial(t)
			br := bufio.NewReader(c)
			for i, s := range recycleSteps {
				method, _, _ := strings.Cut(s.raw, " ")
				resp := roundTrip(t, c, br, s.raw, method)
				if got := body(t, resp); resp.StatusCode != 200 || got != s.want {
					t.Fatalf("request %d: %d %q, want 200 %q", i, resp.StatusCode, got, s.want)
				}
			}
			first := app.scope(0)
			for i := 1; i < len(recycleSteps); i++ {
				if same := app.scope(i) == first; same != recycles {
					t.Errorf("request %d: same scope as the first = %v, want %v", i, same, recycles)
				}
			}
		})
	}
}

// TestInlineRecycledRequestsAllocateNothing guards the point of recycling: pipelined
// inline requests to an app that keeps nothing of its calls cost the server no heap
// allocation (the stream, the scope's bytes and headers, receive and send were five).
func TestInlineRecycledRequestsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const batches, perBatch = 50, 16
	measure := func(recycles bool) float64 {
		ts := startServer(t, Config{Loops: 1}, &noAllocApp{recycles: recycles})
		c := ts.dial(t)
		req := "GET /hello HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n"
		buf := make([]byte, 64<<10)
		// One response's size, read whole: every response has the same.
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		size := 0
		for !bytes.HasSuffix(buf[:size], []byte("\r\n\r\nok")) {
			n, err := c.Read(buf[size:])
			if err != nil {
				t.Fatal(err)
			}
			size += n
		}
		batch := []byte(strings.Repeat(req, perBatch))
		run := func() {
			if _, err := c.Write(batch); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, buf[:perBatch*size]); err != nil {
				t.Fatal(err)
			}
		}
		run() // warm up: the loop's spare buffers and a first stream
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range batches {
			run()
		}
		runtime.ReadMemStats(&after)
		if !bytes.HasSuffix(buf[:perBatch*size], []byte("\r\n\r\nok")) {
			t.Fatalf("unexpected responses %q", buf[:perBatch*size])
		}
		return float64(after.Mallocs-before.Mallocs) / (batches * perBatch)
	}
	kept, recycled := measure(false), measure(true)
	t.Logf("heap allocations per request: %.2f without recycling, %.2f with", kept, recycled)
	if recycled > 0.5 {
		t.Errorf("%.2f heap allocations per recycled inline request, want none", recycled)
	}
	if kept < 3 {
		t.Errorf("%.2f allocations per request without recycling: the measure does not see the stream's", kept)
	}
}

// noAllocApp answers "ok" with messages built once; its only allocations are the server's.
type noAllocApp struct{ recycles bool }

var (
	noAllocStart = &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", "2")}
	noAllocBody  = &asgi.HTTPResponseBody{Body: []byte("ok")}
)

func (noAllocApp) Inline(asgi.Scope) bool { return true }
func (a noAllocApp) Recycles() bool       { return a.recycles }

func (noAllocApp) ServeASGI(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	if err := send(ctx, noAllocStart); err != nil {
		return err
	}
	return send(ctx, noAllocBody)
}

// bodySum is an inline app that reads the whole body and answers "ok" when every byte
// is the request's path letter; it allocates nothing itself.
type bodySum struct{ recycles bool }

func (bodySum) Inline(asgi.Scope) bool { return true }
func (a bodySum) Recycles() bool       { return a.recycles }

var bodySumBad = &asgi.HTTPResponseStart{Status: 400, Headers: asgi.H("content-length", "2")}

func (bodySum) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	letter := scope.(*asgi.HTTPScope).Path[1]
	ok := true
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		req := msg.(*asgi.HTTPRequest)
		for _, b := range req.Body {
			ok = ok && b == letter
		}
		if !req.MoreBody {
			break
		}
	}
	start := noAllocStart
	if !ok {
		start = bodySumBad
	}
	if err := send(ctx, start); err != nil {
		return err
	}
	return send(ctx, noAllocBody)
}

// TestInlineRecycledBodiesReuseMemory: the bodies of pipelined inline requests to an app
// that keeps nothing of its calls reuse one buffer (4 KiB each were allocated before),
// and each request still sees only its own body.
func TestInlineRecycledBodiesReuseMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const batches, perBatch, size = 50, 16, 4 << 10
	measure := func(recycles bool) float64 {
		ts := startServer(t, Config{Loops: 1}, bodySum{recycles: recycles})
		c := ts.dial(t)
		var batch []byte
		for i := range perBatch {
			letter := byte('a' + i%2) // alternate, so a stale body would show
			batch = fmt.Appendf(batch, "POST /%c HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", letter, size-i)
			batch = append(batch, bytes.Repeat([]byte{letter}, size-i)...)
		}
		want := []byte(strings.Repeat("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", perBatch))
		buf := make([]byte, 64<<10)
		run := func() {
			if _, err := c.Write(batch); err != nil {
				t.Fatal(err)
			}
			n := 0
			for n < len(want) || !bytes.HasSuffix(buf[:n], []byte("\r\n\r\nok")) || bytes.Count(buf[:n], []byte("HTTP/1.1 ")) < perBatch {
				m, err := c.Read(buf[n:])
				if err != nil {
					t.Fatal(err)
				}
				n += m
			}
			if got := bytes.Count(buf[:n], []byte(" 200 OK\r\n")); got != perBatch {
				t.Fatalf("%d of %d responses are 200: %q", got, perBatch, buf[:min(n, 300)])
			}
		}
		run()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range batches {
			run()
		}
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / (batches * perBatch)
	}
	kept, recycled := measure(false), measure(true)
	t.Logf("bytes allocated per 4 KiB inline POST: %.0f without recycling, %.0f with", kept, recycled)
	if kept < size || recycled > size/4 {
		t.Errorf("allocated %.0f bytes per request without recycling (want at least %d) and %.0f with (want at most %d)",
			kept, size, recycled, size/4)
	}
}
