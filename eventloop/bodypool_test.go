package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"weak"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// chunkEcho runs on its own goroutine: it holds every body chunk it receives, untouched,
// until the body ends, then sends them back in order. At /early it answers at once and
// returns without reading the body. recycles is its asgi.BodyRecycler answer.
type chunkEcho struct{ recycles bool }

func (a chunkEcho) RecyclesBody(asgi.Scope) bool { return a.recycles }

func (chunkEcho) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	if s.Path == "/early" {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", "5")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte("early")})
	}
	var chunks [][]byte
	total := 0
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		req, ok := msg.(*asgi.HTTPRequest)
		if !ok {
			return nil
		}
		chunks = append(chunks, req.Body)
		total += len(req.Body)
		if !req.MoreBody {
			break
		}
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", strconv.Itoa(total))}); err != nil {
		return err
	}
	for i, b := range chunks {
		if err := send(ctx, &asgi.HTTPResponseBody{Body: b, MoreBody: i < len(chunks)-1}); err != nil {
			return err
		}
	}
	return nil
}

// postEcho sends body to path on c and returns the response's status and body, read
// into out when it has room.
func postEcho(t testing.TB, c net.Conn, br *bufio.Reader, path string, body, out []byte) (int, []byte) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { // the server may answer before it has read the body
		_, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, len(body))
		if err == nil {
			_, err = c.Write(body)
		}
		errc <- err
	}()
	resp, err := http.ReadResponse(br, &http.Request{Method: "POST"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength < 0 || resp.ContentLength > int64(cap(out)) {
		out = make([]byte, max(resp.ContentLength, 0))
	}
	got := out[:resp.ContentLength]
	if _, err := io.ReadFull(resp.Body, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, got
}

// TestPooledBodiesAreReused: for an app that keeps no body chunk past its call
// (asgi.BodyRecycler), large uploads are read into pooled memory that later uploads
// reuse; for an app without the promise every upload gets memory of its own.
func TestPooledBodiesAreReused(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const size, rounds = 1 << 20, 20
	body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	measure := func(recycles bool) float64 {
		ts := startServer(t, Config{Loops: 1}, chunkEcho{recycles: recycles})
		c := ts.dial(t)
		br := bufio.NewReader(c)
		out := make([]byte, size)
		check := func() {
			if status, got := postEcho(t, c, br, "/", body, out); status != 200 || !bytes.Equal(got, body) {
				t.Fatalf("status %d, %d bytes back, equal %v", status, len(got), bytes.Equal(got, body))
			}
		}
		for range 3 {
			check() // warm up: the pools and the loop's buffers
		}
		// No GC while measuring: it would empty the pools (sync.Pool) at random.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range rounds {
			check()
		}
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / rounds
	}
	kept, pooled := measure(false), measure(true)
	t.Logf("bytes allocated per 1 MiB upload: %.0f without the promise, %.0f with", kept, pooled)
	if kept < size || pooled > size/3 {
		t.Errorf("allocated %.0f bytes per upload without the promise (want at least %d) and %.0f with (want at most %d)",
			kept, size, pooled, size/3)
	}
}

// TestPooledBodiesStayIntact: uploads of many sizes on connections in parallel, with
// calls that return before reading their body between them, all come back byte for
// byte: no pooled buffer is given to another body while a call still holds it.
func TestPooledBodiesStayIntact(t *testing.T) {
	ts := startServer(t, Config{Loops: 1}, chunkEcho{recycles: true})
	const conns, rounds = 4, 6
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 1))
			c := ts.dial(t)
			br := bufio.NewReader(c)
			for r := range rounds {
				body := make([]byte, 64<<10+rnd.IntN(3<<20))
				for j := range body {
					body[j] = byte(rnd.Uint32())
				}
				if r%3 == 2 {
					if status, got := postEcho(t, c, br, "/early", body, nil); status != 200 || string(got) != "early" {
						t.Errorf("conn %d round %d: early answer %d %q", i, r, status, got)
						return
					}
					continue
				}
				if status, got := postEcho(t, c, br, "/", body, nil); status != 200 || !bytes.Equal(got, body) {
					t.Errorf("conn %d round %d: status %d, %d of %d bytes back, equal %v", i, r, status, len(got), len(body), bytes.Equal(got, body))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestPooledBodyBoundsItsPool: a long body streamed through a pooled queue (each chunk
// popped as it arrives, then dropped) takes at most maxPooledBody from the pool; the
// rest goes into fresh buffers, which the queue does not keep reachable until the call
// ends, so memory stays flat.
func TestPooledBodyBoundsItsPool(t *testing.T) {
	q := bodyQueue{pooled: true, length: 64 << 20}
	var dropped []weak.Pointer[byte]
	for i := range 64 {
		if err := q.push(bytes.Repeat([]byte{byte(i)}, 1<<20), 64<<20, nil); err != nil {
			t.Fatal(err)
		}
		for b, _ := q.pop(); b != nil; b, _ = q.pop() {
			if i >= 8 {
				dropped = append(dropped, weak.Make(&b[0]))
			}
		}
	}
	if q.ownedBytes > maxPooledBody {
		t.Errorf("the body holds %d pooled bytes, want at most %d", q.ownedBytes, maxPooledBody)
	}
	q.release() // the body's end: only owned still refers to buffers
	runtime.GC()
	runtime.GC()
	alive := 0
	for _, p := range dropped {
		if p.Value() != nil {
			alive++
		}
	}
	if alive > 0 {
		t.Errorf("%d of %d chunks past the pool's share are still reachable from the queue", alive, len(dropped))
	}
	q.recycle()
}
