package eventloop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

type testDetacher struct{}

func (testDetacher) Detach(error) {}

func TestCallContext(t *testing.T) {
	var c callContext
	c.detacher = testDetacher{}
	var ctx context.Context = &c
	if d, ok := asgi.DetacherOf(ctx); !ok || d != (testDetacher{}) {
		t.Fatalf("DetacherOf = %v, %v", d, ok)
	}
	if v := ctx.Value("other"); v != nil {
		t.Fatalf("Value(other) = %v", v)
	}
	if _, ok := ctx.Deadline(); ok {
		t.Fatal("a deadline")
	}
	done := ctx.Done()
	child, stopChild := context.WithCancel(ctx)
	defer stopChild()
	ran := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ran) })
	stopped := false
	stop := context.AfterFunc(ctx, func() { stopped = true })
	if !stop() {
		t.Fatal("stop before cancel reported false")
	}
	for range 1000 { // derived and cancelled during the call: nothing piles up
		_, cancel := context.WithCancel(ctx)
		cancel()
	}
	if n := len(c.after); n != 2 {
		t.Fatalf("%d registrations left, want 2 (the child and the first AfterFunc)", n)
	}
	select {
	case <-done:
		t.Fatal("done before cancel")
	default:
	}
	if ctx.Err() != nil {
		t.Fatal(ctx.Err())
	}
	c.cancel()
	c.cancel() // a second cancel does nothing
	<-done
	<-child.Done() // derived contexts end with it
	<-ran
	if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(child.Err(), context.Canceled) {
		t.Fatalf("Err = %v, child %v", ctx.Err(), child.Err())
	}
	if stopped {
		t.Fatal("a stopped AfterFunc ran")
	}
	late := make(chan struct{})
	context.AfterFunc(ctx, func() { close(late) }) // after the cancel: runs at once
	<-late

	var first callContext // cancelled before anyone asked for Done
	first.cancel()
	<-first.Done()
	if first.Value(asgi.DetachKey{}) != nil {
		t.Fatal("a detacher that was not offered")
	}
}

// offLoopHello answers every request off the loop (it is no asgi.Inliner).
type offLoopHello struct{}

// The messages are shared: Send does not retain them.
var (
	helloStart = &asgi.HTTPResponseStart{Status: 200, Headers: asgi.Headers{{Name: []byte("content-length"), Value: []byte("5")}}}
	helloBody  = &asgi.HTTPResponseBody{Body: []byte("hello")}
)

func (offLoopHello) ServeASGI(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	if _, ok := asgi.DetacherOf(ctx); !ok {
		return errors.New("no detacher offered off the loop")
	}
	if err := send(ctx, helloStart); err != nil {
		return err
	}
	return send(ctx, helloBody)
}

// TestOffLoopRequestAllocs guards what a keep-alive request answered off the loop
// allocates, the server's side and the client's together: the stream with its receive
// and send (bound once per stream), its scope storage (bytes and header list), and
// gnet's task for the flush. The call's context lives in the stream and the response
// head buffer is reused.
func TestOffLoopRequestAllocs(t *testing.T) {
	ts := startServer(t, Config{Loops: 1}, offLoopHello{})
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, 4096)
	// The first response gives the length of every later one.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	n := 0
	for !bytes.HasSuffix(buf[:n], []byte("\r\n\r\nhello")) {
		m, err := conn.Read(buf[n:])
		if err != nil {
			t.Fatalf("%v after %q", err, buf[:n])
		}
		n += m
	}
	size := n
	var failed error
	allocs := testing.AllocsPerRun(2000, func() {
		if failed != nil {
			return
		}
		if _, err := conn.Write(req); err != nil {
			failed = err
			return
		}
		if _, err := io.ReadFull(conn, buf[:size]); err != nil {
			failed = err
		}
	})
	if failed != nil {
		t.Fatal(failed)
	}
	if !bytes.HasSuffix(buf[:size], []byte("\r\n\r\nhello")) {
		t.Fatalf("response %q", buf[:size])
	}
	t.Logf("%.2f allocations per request", allocs)
	// Measured 7: 3 for the stream, 2 for the scope, 2 for gnet's task. The context
	// (3), the head buffer (3) and receive and send made again per call (2) cost 8 more
	// before.
	if allocs > 8 {
		t.Errorf("%.2f allocations per request, want at most 8", allocs)
	}
}
