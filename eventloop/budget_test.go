package eventloop

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Budgets of one client: request-body spool on disk, unsent output, send progress.

func TestBodyQueueSpoolStopsAtItsQuota(t *testing.T) {
	disk := &diskBudget{limit: 1 << 20}
	q := bodyQueue{spoolLimit: 20, disk: disk}
	defer q.release()
	for i := range 2 {
		if err := q.push(make([]byte, 8), 0, nil); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if err := q.push(make([]byte, 8), 0, nil); !errors.Is(err, errSpoolQuota) {
		t.Fatalf("push beyond the quota: %v, want errSpoolQuota", err)
	}
	if q.spoolW != 16 || disk.used.Load() != 16 {
		t.Fatalf("spooled %d, disk budget holds %d; want 16 and 16", q.spoolW, disk.used.Load())
	}
	q.release()
	if disk.used.Load() != 0 {
		t.Fatalf("released queue still holds %d bytes of the disk budget", disk.used.Load())
	}
}

func TestBodyQueueSpoolStopsWhenTheServerWideQuotaIsUsedUp(t *testing.T) {
	disk := &diskBudget{limit: 100}
	disk.used.Store(95) // other requests hold the rest
	q := bodyQueue{disk: disk}
	defer q.release()
	if err := q.push(make([]byte, 5), 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := q.push(make([]byte, 1), 0, nil); !errors.Is(err, errSpoolFull) {
		t.Fatalf("push beyond the server-wide quota: %v, want errSpoolFull", err)
	}
	if disk.used.Load() != 100 {
		t.Fatalf("disk budget holds %d, want 100", disk.used.Load())
	}
	q.release()
	if disk.used.Load() != 95 {
		t.Fatalf("after release the disk budget holds %d, want 95", disk.used.Load())
	}
}

func TestBodyQueueSpoolFailureGivesTheBudgetBack(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	disk := &diskBudget{limit: 100}
	q := bodyQueue{disk: disk}
	err := q.push(make([]byte, 8), 0, nil)
	var se *spoolError
	if !errors.As(err, &se) {
		t.Fatalf("push with an unusable temporary directory: %v, want a spoolError", err)
	}
	if disk.used.Load() != 0 || q.spool != nil {
		t.Fatalf("failed spool holds %d bytes of the budget (file %v)", disk.used.Load(), q.spool)
	}
}

// rawPost sends a request head announcing size body bytes, then as much of the body as
// the server takes until it answers or 3 s pass, and returns the answer's status line
// and headers (or the read error).
func rawPost(t *testing.T, ts *testServer, path string, size int) (string, error) {
	t.Helper()
	c := ts.dial(t)
	if _, err := io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		chunk := make([]byte, 64<<10)
		_ = c.SetWriteDeadline(time.Now().Add(3 * time.Second))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := c.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
				return
			}
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Status + " close=" + strconv.FormatBool(resp.Close), nil
}

// An app that has not read its body yet (it waits before answering) gets no more than
// its spool quota on disk: the client is answered 413 with Connection: close, and the
// server logs one line for the connection.
func TestUnreadBodyBeyondTheSpoolQuotaIs413(t *testing.T) {
	ts := startServer(t, Config{BodyMemoryBytes: 16 << 10, BodyMemoryShared: -1, BodySpoolBytes: 256 << 10}, nil)
	got, err := rawPost(t, ts, "/slow", 4<<20)
	if err != nil || !strings.HasPrefix(got, "413") || !strings.HasSuffix(got, "close=true") {
		t.Fatalf("answer %q %v, want 413 with Connection: close", got, err)
	}
	if n := strings.Count(ts.logs.String(), "beyond the spool quota"); n != 1 {
		t.Fatalf("%d log lines for the refused body, want 1", n)
	}
	testutil.WaitFor(t, 5*time.Second, "the disk budget to be whole", func() bool { return ts.Server.bodySpool.used.Load() == 0 })
}

func TestUnreadBodyBeyondTheServerWideSpoolIs503(t *testing.T) {
	ts := startServer(t, Config{BodyMemoryBytes: 16 << 10, BodyMemoryShared: -1, BodySpoolShared: 256 << 10}, nil)
	ts.Server.bodySpool.used.Store(128 << 10) // other requests hold half
	got, err := rawPost(t, ts, "/slow", 4<<20)
	if err != nil || !strings.HasPrefix(got, "503") || !strings.HasSuffix(got, "close=true") {
		t.Fatalf("answer %q %v, want 503 with Connection: close", got, err)
	}
	testutil.WaitFor(t, 5*time.Second, "the disk budget to be back to the others' half", func() bool {
		return ts.Server.bodySpool.used.Load() == 128<<10
	})
}

// With the temporary directory unusable, the body is refused with 503 and ONE error
// line, not one per read.
func TestSpoolFailureIs503WithOneLogLine(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	ts := startServer(t, Config{BodyMemoryBytes: 16 << 10, BodyMemoryShared: -1}, nil)
	got, err := rawPost(t, ts, "/slow", 4<<20)
	if err != nil || !strings.HasPrefix(got, "503") {
		t.Fatalf("answer %q %v, want 503", got, err)
	}
	if n := strings.Count(ts.logs.String(), "spooling request body failed"); n != 1 {
		t.Fatalf("%d error lines for one connection, want 1:\n%s", n, ts.logs.String())
	}
}

// A body beyond the quota after the response started aborts the connection.
func TestSpoolQuotaAfterTheResponseStartedAborts(t *testing.T) {
	ts := startServer(t, Config{BodyMemoryBytes: 16 << 10, BodyMemoryShared: -1, BodySpoolBytes: 256 << 10}, nil)
	c := ts.dial(t)
	// /stream answers at once and never reads its body; the body follows its head.
	if _, err := io.WriteString(c, "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("response %v %v", resp, err)
	}
	go func() {
		chunk := make([]byte, 64<<10)
		for range 64 {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}()
	_, err = io.Copy(io.Discard, resp.Body)
	if err == nil {
		t.Fatal("the response ended cleanly; want the connection aborted")
	}
	if n := strings.Count(ts.logs.String(), "beyond the spool quota"); n != 1 {
		t.Fatalf("%d log lines, want 1", n)
	}
}

// A client that stops reading a response is closed after SendTimeout, and the app's
// send fails.
func TestSendTimeoutClosesAClientThatStopsReading(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		ts := tr.start(t, Config{SendTimeout: 300 * time.Millisecond}, nil)
		c := ts.dial(t)
		if _, err := io.WriteString(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		ts.waitSendBlocked(t)
		testutil.WaitFor(t, 5*time.Second, "the connection to be closed", func() bool { return ts.Server.Connections() == 0 })
		if n := strings.Count(ts.logs.String(), "client stopped reading"); n != 1 {
			t.Fatalf("%d send-timeout log lines, want 1", n)
		}
	})
}

// A client reading slowly but steadily is not a stalled one. (The loop sees progress
// only when the kernel's send buffer has room for gnet's backlog, about a third of it:
// with loopback's autotuned buffers of a few MiB, at this pace every few hundred ms.)
func TestSendTimeoutSparesASlowReader(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		ts := tr.start(t, Config{SendTimeout: time.Second}, nil)
		c := ts.dial(t)
		if _, err := io.WriteString(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256<<10)
		deadline := time.Now().Add(2500 * time.Millisecond)
		for time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond) // the scenario: a reader slower than the app
			if _, err := io.ReadFull(c, buf); err != nil {
				t.Fatalf("slow reader cut off: %v", err)
			}
		}
		if strings.Contains(ts.logs.String(), "client stopped reading") {
			t.Fatal("a slow but steady reader was closed")
		}
	})
}

// inlineBig answers every request on the loop with 64 KiB: it cannot block, so a client
// pipelining requests without reading makes the output grow.
type inlineBig struct{}

func (inlineBig) Inline(asgi.Scope) bool { return true }

func (inlineBig) ServeASGI(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	return respond(ctx, send, 200, strings.Repeat("x", 64<<10))
}

func TestUnsentOutputBeyondTheCapCloses(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		ts := tr.start(t, Config{MaxUnsentBytes: 512 << 10, SendTimeout: -1}, inlineBig{})
		c := ts.dial(t)
		batch := strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 10) // 640 KiB of answers
		go func() {
			for range 60 {
				if _, err := io.WriteString(c, batch); err != nil {
					return
				}
				// The scenario: batches in separate reads. (Batches read at once are
				// answered in one write, which the cap takes as one message.)
				time.Sleep(50 * time.Millisecond)
			}
		}()
		testutil.WaitFor(t, 5*time.Second, "the connection to be closed", func() bool {
			return strings.Contains(ts.logs.String(), "keeps growing") && ts.Server.Connections() == 0
		})
		if n := strings.Count(ts.logs.String(), "keeps growing"); n != 1 {
			t.Fatalf("%d log lines, want 1", n)
		}
	})
}
