package wsgi

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestInputStreamsBeforeBodyArrives(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		firstRead := make(chan struct{})
		calls := 0
		receive := func(ctx context.Context) (asgi.Message, error) {
			calls++
			if calls == 1 {
				return &asgi.HTTPRequest{Body: []byte("first "), MoreBody: true}, nil
			}
			select { // the rest of the body arrives only once the handler has read the start
			case <-firstRead:
			case <-time.After(5 * time.Second):
				return nil, errors.New("the handler did not start before the whole body arrived")
			}
			return &asgi.HTTPRequest{Body: []byte("second")}, nil
		}
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			buf := make([]byte, 64)
			n, err := e.Input().Read(buf)
			if err != nil {
				return nil, err
			}
			close(firstRead)
			rest, err := io.ReadAll(e.Input())
			if err != nil {
				return nil, err
			}
			return Bytes(buf[:n], rest), plain(start)
		}, Config{})
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		if err := app.ServeASGI(context.Background(), scopeFor(version, "POST", "/"), receive, rec.Send); err != nil {
			t.Fatal(err)
		}
		if got := string(rec.Response().Body); got != "first second" {
			t.Fatalf("echo %q", got)
		}
	})
}

func TestInputIsNotReadUnlessTheHandlerReads(t *testing.T) {
	var calls atomic.Int32
	receive := func(ctx context.Context) (asgi.Message, error) {
		calls.Add(1)
		return &asgi.HTTPRequest{Body: []byte("x")}, nil
	}
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		return Bytes([]byte("ignored the body")), plain(start)
	}, Config{})
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := app.ServeASGI(context.Background(), scopeFor("1.1", "POST", "/", "expect", "100-continue"), receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("receive called %d times for a handler that never read wsgi.input", n)
	}
}

// uploadSource delivers a body of total bytes in chunk-sized http.request messages,
// generated on demand, and checks the adapter never asks for a message before the
// handler consumed the previous one.
type uploadSource struct {
	total     int64
	chunk     int
	delivered int64
	consumed  *atomic.Int64 // bytes the handler has read, updated by the handler
	violation atomic.Value
	crc       uint32
}

func (u *uploadSource) receive(ctx context.Context) (asgi.Message, error) {
	if c := u.consumed.Load(); c != u.delivered {
		u.violation.Store(errors.New("adapter read ahead: asked for a message before the previous one was consumed"))
	}
	n := min(int64(u.chunk), u.total-u.delivered)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(u.delivered + int64(i))
	}
	u.crc = crc32.Update(u.crc, crc32.IEEETable, b)
	u.delivered += n
	return &asgi.HTTPRequest{Body: b, MoreBody: u.delivered < u.total}, nil
}

func TestInputStreams64MiBWithBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB upload")
	}
	apptest.ForVersions(t, func(t *testing.T, version string) {
		const total = 64 << 20
		d := &slowDrain{block: 16 << 10, every: 256, pause: 5 * time.Millisecond} // a pause every 4 MiB
		src := &uploadSource{total: total, chunk: 64 << 10, consumed: &d.n}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var crc uint32
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			var err error
			if crc, err = d.drain(e.Input()); err != nil {
				return nil, err
			}
			return Bytes([]byte("done")), plain(start)
		}, Config{})
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		if err := app.ServeASGI(context.Background(), scopeFor(version, "POST", "/"), src.receive, rec.Send); err != nil {
			t.Fatal(err)
		}
		if v := src.violation.Load(); v != nil {
			t.Fatal(v)
		}
		if d.n.Load() != total || crc != src.crc {
			t.Fatalf("handler read %d bytes (crc %08x), sent %d (crc %08x)", d.n.Load(), crc, total, src.crc)
		}
		if grew := int64(d.peak.Load()) - int64(base); grew > 24<<20 {
			t.Fatalf("heap grew by %d MiB while streaming a 64 MiB body", grew>>20)
		}
		t.Logf("heap growth while streaming 64 MiB: %d KiB", (int64(d.peak.Load())-int64(base))>>10)
	})
}

func TestInputClientDisconnect(t *testing.T) {
	body := &tracked{}
	var readErr error
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		_, readErr = io.ReadAll(e.Input())
		return body, readErr
	}, Config{})
	receive := asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{Body: []byte("part"), MoreBody: true})
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	_ = app.ServeASGI(context.Background(), scopeFor("1.1", "POST", "/"), receive, rec.Send)
	if !errors.Is(readErr, ErrClientDisconnected) {
		t.Fatalf("read error %v", readErr)
	}
	if rec.String() != "" {
		t.Fatalf("sent %s to a client that left", rec)
	}
	body.waitClosed(t)
}

func TestInputEmptyBody(t *testing.T) {
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		b, err := io.ReadAll(e.Input())
		if err != nil || len(b) != 0 || e.Input().BytesRead() != 0 {
			return nil, errors.New("empty body misread")
		}
		return nil, plain(start)
	}, Config{})
	rec, err := serve(t, app, scopeFor("1.1", "GET", "/"), nil)
	if err != nil || rec.Response().Status != 200 {
		t.Fatalf("err %v status %d", err, rec.Response().Status)
	}
}
