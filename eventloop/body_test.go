package eventloop

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"
	"weak"

	"golang.org/x/sys/unix"

	"github.com/asgo-dev/asgo/internal/testutil"
)

func TestBodyQueueBorrowsFromTheSharedBudgetThenSpools(t *testing.T) {
	budget := &memBudget{limit: 15 * streamShare} // a stream may borrow 15 bytes
	var q bodyQueue
	defer q.release()
	chunk := bytes.Repeat([]byte("x"), 8)
	steps := []struct {
		borrowed int
		used     int64
		spooled  bool
	}{
		{0, 0, false},   // 8 of the stream's own 10
		{6, 6, false},   // 16: 6 over the limit, borrowed
		{14, 14, false}, // 24: 14 borrowed
		{14, 14, true},  // 8 more do not fit in the stream's 15: spooled
	}
	for i, want := range steps {
		if err := q.push(chunk, 10, budget); err != nil {
			t.Fatal(err)
		}
		if q.borrowed != want.borrowed || budget.used.Load() != want.used || (q.spool != nil) != want.spooled {
			t.Fatalf("push %d: borrowed %d used %d spooled %v, want %+v", i, q.borrowed, budget.used.Load(), q.spool != nil, want)
		}
	}
	got := 0
	for {
		b, err := q.pop()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			break
		}
		got += len(b)
		if q.borrowed != max(0, q.memBytes-10) || budget.used.Load() != int64(q.borrowed) {
			t.Fatalf("after popping %d: borrowed %d used %d memBytes %d", got, q.borrowed, budget.used.Load(), q.memBytes)
		}
	}
	if got != 32 || budget.used.Load() != 0 {
		t.Fatalf("popped %d bytes, budget still holds %d", got, budget.used.Load())
	}
}

func TestBodyQueueSpoolsWhenTheServerWideBudgetIsSpent(t *testing.T) {
	budget := &memBudget{limit: 20 * streamShare}
	budget.used.Store(budget.limit - 5) // other streams hold the rest
	var q bodyQueue
	defer q.release()
	if err := q.push(make([]byte, 8), 0, budget); err != nil {
		t.Fatal(err)
	}
	if q.spool == nil || q.borrowed != 0 || budget.used.Load() != budget.limit-5 {
		t.Fatalf("spooled %v borrowed %d used %d", q.spool != nil, q.borrowed, budget.used.Load())
	}
}

func TestBodyQueueReleaseReturnsTheBorrowedBytes(t *testing.T) {
	budget := &memBudget{limit: 1 << 20}
	var q bodyQueue
	for range 4 {
		if err := q.push(make([]byte, 1000), 1500, budget); err != nil {
			t.Fatal(err)
		}
	}
	if budget.used.Load() != 2500 {
		t.Fatalf("used %d, want 2500", budget.used.Load())
	}
	q.release()
	if budget.used.Load() != 0 || q.borrowed != 0 {
		t.Fatalf("after release: used %d borrowed %d", budget.used.Load(), q.borrowed)
	}
}

func TestBodyQueueWithoutBudgetSpoolsAtItsLimit(t *testing.T) {
	var q bodyQueue
	defer q.release()
	for range 2 {
		if err := q.push(make([]byte, 8), 10, nil); err != nil {
			t.Fatal(err)
		}
	}
	if q.spool == nil || q.borrowed != 0 {
		t.Fatalf("spooled %v borrowed %d", q.spool != nil, q.borrowed)
	}
}

// A slow app's upload stays in memory within the shared budget, arrives intact, and the
// budget is whole again once the request is done.
func TestSlowAppBodyBorrowsSharedMemory(t *testing.T) {
	ts := startServer(t, Config{BodyMemoryBytes: 64 << 10, BodyMemoryShared: 32 << 20}, nil)
	payload := bytes.Repeat([]byte("asgo shared budget "), (8<<20)/19)
	sum := sha256.Sum256(payload)
	done := make(chan string, 1)
	go func() {
		resp, err := http.Post(ts.url("/sha256"), "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			done <- err.Error()
			return
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		done <- b.String()
	}()
	testutil.WaitFor(t, 5*time.Second, "the upload to borrow from the shared budget while the app sleeps", func() bool {
		return ts.Server.bodyShared.used.Load() > 0
	})
	if want := fmt.Sprintf("%d %x", len(payload), sum); <-done != want {
		t.Fatalf("body not intact")
	}
	waitBudgetEmpty(t, ts)
}

// A request whose app ignores its body gives the borrowed bytes back.
func TestIgnoredBodyReturnsTheSharedMemory(t *testing.T) {
	ts := startServer(t, Config{BodyMemoryBytes: 16 << 10}, nil)
	for range 3 {
		resp, err := http.Post(ts.url("/hello"), "application/octet-stream", bytes.NewReader(make([]byte, 2<<20)))
		if err != nil {
			t.Fatal(err)
		}
		body(t, resp)
	}
	waitBudgetEmpty(t, ts)
}

func waitBudgetEmpty(t *testing.T, ts *testServer) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, "the shared body budget to be whole", func() bool {
		return ts.Server.bodyShared.used.Load() == 0
	})
}

// TestBodyQueueCoalesces: bytes pushed while the app does not receive are handed over
// in few chunks (buffers grow geometrically), intact and in order; the room reserved
// never exceeds the bytes received, whatever length the body declares; and a chunk
// handed to the app is never written to again.
func TestBodyQueueCoalesces(t *testing.T) {
	for _, length := range []int64{0, 1 << 20, 1 << 40} {
		t.Run(fmt.Sprint("declared ", length), func(t *testing.T) {
			var q bodyQueue
			q.length = length
			var want []byte
			for i := range 16 {
				chunk := bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
				want = append(want, chunk...)
				if err := q.push(chunk, 2<<20, nil); err != nil {
					t.Fatal(err)
				}
				reserved := 0
				for _, b := range q.mem {
					reserved += cap(b)
				}
				if int64(reserved) > 2*q.pushed {
					t.Fatalf("after %d bytes, %d reserved", q.pushed, reserved)
				}
			}
			var got []byte
			chunks := 0
			for {
				b, _ := q.pop()
				if b == nil {
					break
				}
				chunks++
				got = append(got, b...)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("bytes differ")
			}
			if chunks > 5 {
				t.Fatalf("16 pushes of 64 KiB handed over in %d chunks, want at most 5", chunks)
			}
		})
	}
	t.Run("interleaved", func(t *testing.T) {
		var q bodyQueue
		q.length = 1 << 20
		var popped [][]byte
		var want []byte
		for i := range 64 {
			chunk := bytes.Repeat([]byte{byte(i)}, 1000+i)
			want = append(want, chunk...)
			if err := q.push(chunk, 1<<20, nil); err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				b, _ := q.pop()
				popped = append(popped, b)
				_ = append(b, "the app appends to its chunk"...) // must not reach the queue's bytes
			}
		}
		for b, _ := q.pop(); b != nil; b, _ = q.pop() {
			popped = append(popped, b)
		}
		if !q.empty() {
			t.Fatal("queue not empty")
		}
		if got := bytes.Join(popped, nil); !bytes.Equal(got, want) {
			t.Fatal("bytes differ: a later push wrote over a chunk handed over")
		}
	})
}

// TestBodyQueueReadsFromTheSocket: readFrom reads straight into the queue, borrows past
// memLimit from the shared budget like push (and returns what a short read did not
// use), and the bytes come out intact and in order after pushed ones.
func TestBodyQueueReadsFromTheSocket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	budget := &memBudget{limit: 64 << 20}
	var q bodyQueue
	q.length = 1 << 20
	defer q.release()
	want := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB
	if err := q.push(want[:16<<10], 32<<10, budget); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(fds[1], want[16<<10:]); err != nil {
		t.Fatal(err)
	}
	// Asking for more than is there: one call reads until the socket is drained,
	// through buffers that grow with the bytes at hand.
	if n := q.readFrom(fds[0], 1<<20, 32<<10, budget); n != 48<<10 || len(q.mem) < 3 {
		t.Fatalf("read %d bytes into %d buffers, want %d in at least 3", n, len(q.mem), 48<<10)
	}
	if q.borrowed != 32<<10 || budget.used.Load() != 32<<10 {
		t.Fatalf("borrowed %d, budget used %d, want %d each", q.borrowed, budget.used.Load(), 32<<10)
	}
	if n := q.readFrom(fds[0], 1<<20, 32<<10, budget); n != 0 || budget.used.Load() != 32<<10 {
		t.Fatalf("empty socket: read %d, budget used %d", n, budget.used.Load())
	}
	var got []byte
	for b, _ := q.pop(); b != nil; b, _ = q.pop() {
		got = append(got, b...)
	}
	if !bytes.Equal(got, want) || budget.used.Load() != 0 {
		t.Fatalf("bytes equal %v, budget used %d after popping all", bytes.Equal(got, want), budget.used.Load())
	}
}

// TestBodyQueueKeepsNoChunkItHandedOver: once pop hands a buffer's bytes over, and the
// app drops them, the queue holds no reference to that buffer, even while the queue
// lives on with later ones (a 4 MiB buffer kept alive per stream showed up as a third
// more peak memory in the 64 MiB upload tests).
func TestBodyQueueKeepsNoChunkItHandedOver(t *testing.T) {
	var q bodyQueue
	q.length = 64 << 20
	var handedOver []weak.Pointer[byte]
	for i := range 8 {
		if err := q.push(bytes.Repeat([]byte{byte(i)}, 256<<10), 64<<20, nil); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			continue // the next push starts a second buffer: mem leaves its first array
		}
		b, _ := q.pop()
		handedOver = append(handedOver, weak.Make(&b[0]))
	}
	runtime.GC()
	runtime.GC()
	for i, p := range handedOver {
		if p.Value() != nil {
			t.Errorf("chunk %d handed over is still reachable from the queue", i)
		}
	}
	if q.empty() {
		t.Fatal("the queue must still hold bytes, or the test proves nothing")
	}
	runtime.KeepAlive(&q)
}
