package wsgi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// blocker is a handler that blocks until released, counting the running handlers.
type blocker struct {
	release chan struct{}
	running chan struct{}
}

func newBlocker() *blocker {
	return &blocker{release: make(chan struct{}), running: make(chan struct{}, 100)}
}

func (b *blocker) handler(e Environ, start StartResponse) (Iterable, error) {
	if e.Get("PATH_INFO") == "/fast" {
		return Bytes([]byte("fast")), plain(start)
	}
	b.running <- struct{}{}
	<-b.release
	return Bytes([]byte("slow")), plain(start)
}

func (b *blocker) waitRunning(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-b.running:
		case <-time.After(5 * time.Second):
			t.Fatal("handlers did not start")
		}
	}
}

func TestSaturationAnswers503AtOnce(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		b := newBlocker()
		app, _ := newApp(t, b.handler, Config{Workers: 2, Backlog: 1, RetryAfter: 3 * time.Second})
		var wg sync.WaitGroup
		results := make(chan string, 3) // "200 <nil>" or what went wrong
		for range 3 {                   // two run, one waits in the queue
			wg.Add(1)
			go func() { // not the test's goroutine: it reports through results
				defer wg.Done()
				rec, err := serveInBackground(app, scopeFor(version, "GET", "/slow"), nil)
				results <- fmt.Sprint(rec.Response().Status, " ", err)
			}()
		}
		b.waitRunning(t, 2)
		testutil.WaitFor(t, 5*time.Second, "one request queued", func() bool { return app.Pool().Queued() == 1 })
		begin := time.Now()
		rec, err := serve(t, app, scopeFor(version, "GET", "/fast"), nil)
		took := time.Since(begin)
		resp := rec.Response()
		if err != nil || resp.Status != 503 || header(resp.Headers, "retry-after") != "3" || !resp.Complete {
			t.Fatalf("saturated pool: err %v, resp %+v", err, resp)
		}
		if took > 50*time.Millisecond {
			t.Fatalf("503 took %v, want at once", took)
		}
		// An async app beside the saturated pool is not slowed down.
		async := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
			return httpx.Text(ctx, send, 200, "async")
		})
		begin = time.Now()
		rec, err = serve(t, async, scopeFor(version, "GET", "/async"), nil)
		if took := time.Since(begin); err != nil || rec.Response().Status != 200 || took > 5*time.Millisecond {
			t.Fatalf("async route: err %v status %d in %v", err, rec.Response().Status, took)
		}
		close(b.release)
		wg.Wait()
		close(results)
		for r := range results {
			if r != "200 <nil>" {
				t.Fatalf("a queued or running request got %s", r)
			}
		}
	})
}

func TestNoBacklog(t *testing.T) {
	b := newBlocker()
	app, _ := newApp(t, b.handler, Config{Workers: 1, Backlog: -1})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = serveInBackground(app, scopeFor("1.1", "GET", "/slow"), nil)
	}()
	b.waitRunning(t, 1)
	rec, _ := serve(t, app, scopeFor("1.1", "GET", "/fast"), nil)
	if rec.Response().Status != 503 {
		t.Fatalf("status %d, want 503 with no waiting room", rec.Response().Status)
	}
	close(b.release)
	<-done
}

func TestTimeoutBeforeStartGives504(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		b := newBlocker()
		body := &tracked{}
		app, logs := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			if e.Get("PATH_INFO") == "/fast" {
				return Bytes([]byte("fast")), plain(start)
			}
			<-b.release
			<-e.Context().Done() // cancelled by the timeout
			return body, plain(start)
		}, Config{Workers: 1, Timeout: 50 * time.Millisecond})
		begin := time.Now()
		rec, err := serve(t, app, scopeFor(version, "GET", "/slow"), nil)
		if err != nil || rec.Response().Status != 504 || !rec.Response().Complete {
			t.Fatalf("err %v resp %+v", err, rec.Response())
		}
		if took := time.Since(begin); took > time.Second {
			t.Fatalf("504 after %v", took)
		}
		mustContain(t, logs.String(), "handler timed out")
		mustContain(t, logs.String(), "path=/slow")
		close(b.release)
		body.waitClosed(t) // the handler finished later: its body is closed, nothing sent
		rec, err = serve(t, app, scopeFor(version, "GET", "/fast"), nil)
		if err != nil || string(rec.Response().Body) != "fast" {
			t.Fatalf("worker not free after the timed-out handler returned: %v %+v", err, rec.Response())
		}
	})
}

func TestTimeoutAfterStartAborts(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		release := make(chan struct{})
		var writeErr error
		finished := make(chan struct{})
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			defer close(finished)
			write, err := start("200 OK", nil, nil)
			if err != nil {
				return nil, err
			}
			if err := write([]byte("begun")); err != nil {
				return nil, err
			}
			<-release
			writeErr = write([]byte("too late"))
			return nil, writeErr
		}, Config{Timeout: 50 * time.Millisecond})
		rec, err := serve(t, app, scopeFor(version, "GET", "/"), nil)
		if !errors.Is(err, ErrTimeout) || rec.Response().Complete {
			t.Fatalf("err %v, complete %v: want an aborted response", err, rec.Response().Complete)
		}
		close(release)
		<-finished
		if !errors.Is(writeErr, ErrAborted) {
			t.Fatalf("write after the timeout returned %v", writeErr)
		}
		if got := string(rec.Response().Body); got != "begun" {
			t.Fatalf("body %q: nothing may be sent after the abort", got)
		}
	})
}

func TestClientGoneWhileHandlerRuns(t *testing.T) {
	release := make(chan struct{})
	body := &tracked{chunks: [][]byte{[]byte("x")}}
	running := make(chan struct{})
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		close(running)
		<-release
		return body, plain(start)
	}, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	done := make(chan error, 1)
	go func() {
		done <- app.ServeASGI(ctx, scopeFor("1.1", "GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
	}()
	select {
	case <-running:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not start")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("ServeASGI did not return after the client left")
	}
	close(release)
	body.waitClosed(t)
	if rec.String() != "" {
		t.Fatalf("sent %s after the client left", rec)
	}
}

func TestClientGoneWhileQueued(t *testing.T) {
	b := newBlocker()
	ran := make(chan struct{}, 1)
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		if e.Get("PATH_INFO") == "/queued" {
			ran <- struct{}{}
		}
		return b.handler(e, start)
	}, Config{Workers: 1})
	go func() { _, _ = serveInBackground(app, scopeFor("1.1", "GET", "/slow"), nil) }()
	b.waitRunning(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		done <- app.ServeASGI(ctx, scopeFor("1.1", "GET", "/queued"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
	}()
	testutil.WaitFor(t, 5*time.Second, "the request queued", func() bool { return app.Pool().Queued() == 1 })
	cancel()
	<-done
	close(b.release)
	testutil.WaitFor(t, 5*time.Second, "the pool idle", func() bool { return app.Pool().Queued() == 0 && app.Pool().Busy() == 0 })
	select {
	case <-ran:
		t.Fatal("the handler ran for a client that left while queued")
	default:
	}
}

func TestSharedPoolAndClose(t *testing.T) {
	pool := NewPool(PoolConfig{Workers: 1})
	hello := func(e Environ, start StartResponse) (Iterable, error) { return Bytes([]byte("hi")), plain(start) }
	a, _ := newApp(t, hello, Config{Pool: pool})
	b, _ := newApp(t, hello, Config{Pool: pool})
	if a.Pool() != pool || b.Pool() != pool || pool.Workers() != 1 {
		t.Fatal("apps must share the given pool")
	}
	a.Close() // leaves the shared pool running
	rec, _ := serve(t, b, scopeFor("1.1", "GET", "/"), nil)
	if rec.Response().Status != 200 {
		t.Fatalf("status %d", rec.Response().Status)
	}
	pool.Close()
	if err := pool.TrySubmit(JobFunc(func() {})); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("TrySubmit after Close: %v", err)
	}
	rec, _ = serve(t, b, scopeFor("1.1", "GET", "/"), nil)
	if rec.Response().Status != 503 {
		t.Fatalf("status %d after Close, want 503", rec.Response().Status)
	}
}

func TestPoolSurvivesPanickingJob(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1})
	defer p.Close()
	if err := p.TrySubmit(JobFunc(func() { panic("job") })); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	if err := p.TrySubmit(JobFunc(func() { close(done) })); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the worker died with the panicking job")
	}
}
