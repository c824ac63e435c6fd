package eventloop

import (
	"bufio"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pipelineStep is one request of a pipelined batch and the response it must get.
type pipelineStep struct {
	raw, method string
	status      int
	body        string // for HEAD: the Content-Length the GET would have
}

// mixedBatch mixes inline GETs, a POST with a body, goroutine-app requests (/slow,
// /scope), HEAD, and a Connection: close in the middle: what follows it must not be
// answered.
var mixedBatch = []pipelineStep{
	{"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 200, "Hello, World!"},
	{"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "POST", 200, "hello"},
	{"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 200, "Hello, World!"},
	{"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 200, "slow done"},
	{"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD", 200, ""},
	{"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 200, "Hello, World!"},
	{"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "POST", 200, "abc"},
	{"GET /scope?a=1 HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 200, "GET|/scope|/scope|a=1|1.1"},
	{"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET", 200, "Hello, World!"},
	{"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET", 0, ""}, // after close: never answered
}

// writeChunked writes s in pieces of the sizes next returns.
func writeChunked(t *testing.T, w io.Writer, s string, next func() int) {
	for len(s) > 0 {
		n := min(next(), len(s))
		if _, err := io.WriteString(w, s[:n]); err != nil {
			t.Errorf("writing the batch: %v", err)
			return
		}
		s = s[n:]
	}
}

// TestPipelinedBatchInOrder feeds a mixed pipelined batch whole, byte by byte and in
// random chunks over a real socket: every response comes in request order, and the
// connection ends after the one that asked to close.
func TestPipelinedBatchInOrder(t *testing.T) {
	var batch strings.Builder
	for _, s := range mixedBatch {
		batch.WriteString(s.raw)
	}
	rng := rand.New(rand.NewSource(1))
	feeds := []struct {
		name string
		next func() int
	}{
		{"whole", func() int { return batch.Len() }},
		{"byte by byte", func() int { return 1 }},
		{"random chunks", func() int { return 1 + rng.Intn(40) }},
	}
	ts := startServer(t, Config{}, nil)
	for _, f := range feeds {
		t.Run(f.name, func(t *testing.T) {
			c := ts.dial(t)
			go writeChunked(t, c, batch.String(), f.next)
			br := bufio.NewReader(c)
			for i, s := range mixedBatch {
				if s.status == 0 {
					if n, err := br.Read(make([]byte, 1)); err != io.EOF {
						t.Fatalf("after Connection: close: read %d bytes, err %v; want EOF", n, err)
					}
					continue
				}
				resp := roundTrip(t, c, br, "", s.method)
				got := body(t, resp)
				if resp.StatusCode != s.status {
					t.Fatalf("response %d (%q): status %d", i, s.raw, resp.StatusCode)
				}
				if s.method == "HEAD" {
					if got != "" || resp.ContentLength != int64(len("Hello, World!")) {
						t.Fatalf("HEAD response %d: body %q, content-length %d", i, got, resp.ContentLength)
					}
					continue
				}
				if got != s.body {
					t.Fatalf("response %d (%q) = %q, want %q", i, s.raw, got, s.body)
				}
			}
		})
	}
}

// loopWrites returns how many output buffers the server's loops handed to gnet.
func loopWrites(ts *testServer) uint64 {
	var n uint64
	ts.forEachLoop(func(l *loop) { n += l.writes })
	return n
}

// TestInlinePipelineOneWrite checks that a batch of pipelined requests for an inline
// app is answered in one pass: all responses, in order, leave in one write.
func TestInlinePipelineOneWrite(t *testing.T) {
	ts := startServer(t, Config{Loops: 1}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	// Warm up the connection, so the batch is the only traffic measured.
	if got := body(t, roundTrip(t, c, br, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")); got != "Hello, World!" {
		t.Fatalf("warm-up: %q", got)
	}
	const n = 16
	var batch strings.Builder
	for i := 0; i < n; i++ {
		if i%4 == 3 {
			batch.WriteString("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
		} else {
			batch.WriteString("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
		}
	}
	before := loopWrites(ts)
	if _, err := io.WriteString(c, batch.String()); err != nil { // one segment on loopback
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		method := "GET"
		if i%4 == 3 {
			method = "HEAD"
		}
		resp := roundTrip(t, c, br, "", method)
		if got := body(t, resp); resp.StatusCode != 200 || method == "GET" && got != "Hello, World!" {
			t.Fatalf("response %d: %d %q", i, resp.StatusCode, got)
		}
	}
	if got := loopWrites(ts) - before; got != 1 {
		t.Fatalf("%d pipelined inline requests took %d writes, want 1", n, got)
	}
}

// TestPipelineTurnBudgetKeepsOrder pipelines more requests than one turn answers
// (turnRequests), in one write: the connection yields and resumes, and every response
// comes, in order.
func TestPipelineTurnBudgetKeepsOrder(t *testing.T) {
	ts := startServer(t, Config{Loops: 1}, nil)
	c := ts.dial(t)
	const n = 2000 // about 16 turns
	var batch strings.Builder
	for i := 0; i < n; i++ {
		if i == n/2 {
			batch.WriteString("GET /scope?mid HTTP/1.1\r\nHost: x\r\n\r\n") // a goroutine app in the middle
			continue
		}
		batch.WriteString("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	go func() { _, _ = io.WriteString(c, batch.String()) }()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		want := "Hello, World!"
		if i == n/2 {
			want = "GET|/scope|/scope|mid|1.1"
		}
		if got := body(t, resp); got != want {
			t.Fatalf("response %d = %q, want %q", i, got, want)
		}
	}
	if writes := loopWrites(ts); writes < uint64(n/turnRequests) {
		t.Fatalf("%d requests answered in %d writes: the turn budget did not yield", n, writes)
	}
}
