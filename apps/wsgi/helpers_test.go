package wsgi

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// newApp returns an App serving h whose log goes to the returned buffer.
func newApp(t *testing.T, h HandlerFunc, cfg Config) (*App, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Errors == nil {
		cfg.Errors = logs
	}
	a := New(h, cfg)
	t.Cleanup(a.Close)
	return a, logs
}

func scopeFor(version, method, target string, headers ...string) *asgi.HTTPScope {
	s := asgitest.NewHTTPScope(method, target, headers...)
	s.HTTPVersion = version
	return s
}

// serve runs app on scope with body delivered in one message and returns the recorder
// and ServeASGI's error.
func serve(t *testing.T, app asgi.App, scope *asgi.HTTPScope, body []byte) (*asgitest.Recorder, error) {
	t.Helper()
	return apptest.Serve(t, app, scope, asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body(body, 0)...))
}

// serveInBackground is serve for a goroutine other than the test's: it touches no
// testing.T, and a contract violation comes back as the error.
func serveInBackground(app asgi.App, scope *asgi.HTTPScope, body []byte) (*asgitest.Recorder, error) {
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	ctx, cancel := context.WithTimeout(context.Background(), apptest.CallTimeout)
	defer cancel()
	err := app.ServeASGI(ctx, scope, asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body(body, 0)...), rec.Send)
	if rec.Err != nil {
		return rec, fmt.Errorf("contract violation: %v (sent %s)", rec.Err, rec)
	}
	return rec, err
}

// slowDrain reads a request body the way a slow handler does: block bytes per Read,
// with a pause every few reads at which the heap is sampled.
type slowDrain struct {
	block int           // bytes per Read
	every int           // reads between pauses
	pause time.Duration // length of a pause
	n     atomic.Int64  // bytes read so far, counted after each Read
	peak  atomic.Uint64 // the largest HeapAlloc seen at a pause
}

// drain reads r to io.EOF and returns the CRC-32 of what it read.
func (d *slowDrain) drain(r io.Reader) (uint32, error) {
	buf := make([]byte, d.block)
	var ms runtime.MemStats
	var crc uint32
	for i := 0; ; i++ {
		k, err := r.Read(buf)
		crc = crc32.Update(crc, crc32.IEEETable, buf[:k])
		d.n.Add(int64(k))
		if err == io.EOF {
			return crc, nil
		}
		if err != nil {
			return crc, err
		}
		if i%d.every == 0 {
			time.Sleep(d.pause) // the scenario: a handler slower than the client
			runtime.ReadMemStats(&ms)
			d.peak.Store(max(d.peak.Load(), ms.HeapAlloc))
		}
	}
}

// tracked is an Iterable that records its Close calls.
type tracked struct {
	chunks [][]byte
	err    error // returned by Next after the chunks
	panic  bool  // Next panics after the chunks
	closed atomic.Int32
	i      int
	gate   chan struct{} // when set, Next waits on it before each chunk
	calls  atomic.Int32  // Next calls begun
}

func (b *tracked) Next() ([]byte, error) {
	b.calls.Add(1)
	if b.gate != nil {
		<-b.gate
	}
	if b.i < len(b.chunks) {
		b.i++
		return b.chunks[b.i-1], nil
	}
	if b.panic {
		panic("iteration exploded")
	}
	if b.err != nil {
		return nil, b.err
	}
	return nil, io.EOF
}

func (b *tracked) Close() error {
	b.closed.Add(1)
	return nil
}

// waitClosed waits for b.Close, which may run on a worker after ServeASGI returned.
func (b *tracked) waitClosed(t *testing.T) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, "the body to be closed", func() bool { return b.closed.Load() != 0 })
	if n := b.closed.Load(); n != 1 {
		t.Fatalf("Close called %d times, want 1", n)
	}
}

func plain(start StartResponse) error {
	_, err := start("200 OK", [][2]string{{"Content-Type", "text/plain"}}, nil)
	return err
}

// startPartial starts a 200 response and sends "partial" through the write callable,
// so the response has begun when the handler goes on.
func startPartial(start StartResponse) error {
	write, err := start("200 OK", nil, nil)
	if err != nil {
		return err
	}
	return write([]byte("partial"))
}

func header(h asgi.Headers, name string) string { return string(h.Get(name)) }

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}
