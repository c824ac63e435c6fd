package wsgi

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Config configures an App. The zero value means the documented defaults.
type Config struct {
	// Workers is how many handlers the App's own pool runs at once (its places, and its
	// worker goroutines; the CLI's --wsgi-workers). If zero, 10 is used. Ignored when
	// Pool is set.
	Workers int
	// Backlog is how many requests may wait for a worker (--wsgi-backlog); the next one
	// is answered 503. If zero, 64 is used; negative means none may wait. Ignored when
	// Pool is set.
	Backlog int
	// Timeout is how long a handler may run, counted from the moment a worker starts it
	// until the response is complete (--wsgi-timeout). A handler over time gets its
	// response aborted (504 when nothing was sent yet) and is logged. If zero, 30s is
	// used (gunicorn's worker timeout); negative means no limit.
	Timeout time.Duration
	// RetryAfter is the Retry-After value of the 503 sent when the queue is full. If
	// zero, 1s is used. It is sent in whole seconds, at least 1.
	RetryAfter time.Duration
	// Pool, when set, is a shared pool to run handlers on; the App then does not own it
	// and Close leaves it running.
	Pool *Pool
	// Logger receives handler errors, panics and timeouts. If nil, slog.Default() is used.
	Logger *slog.Logger
	// Errors is wsgi.errors. If nil, os.Stderr is used.
	Errors io.Writer
}

// Normalize returns c with every unset field replaced by its default (a zero Timeout,
// a zero or negative RetryAfter, a nil Logger or Errors), the values an App made
// with c uses.
func (c Config) Normalize() Config {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Errors == nil {
		c.Errors = os.Stderr
	}
	return c
}

// App serves a WSGI-style Handler as an asgi.App: each HTTP request runs the handler in
// a place of the pool, off the event loop, so the loop and the async apps beside it are
// never blocked by the handler: on the calling goroutine when the server offers an
// asgi.Detacher (asgo's server does), else on a worker while the calling goroutine only
// waits. ServeASGI is safe for concurrent use.
type App struct {
	handler Handler
	given   Config    // as passed to New; completed with the defaults by start
	started sync.Once // start runs once, at the first request (or Pool, or Close)
	// Set by start, read-only after it:
	cfg        Config
	pool       *Pool
	ownPool    bool
	retryAfter []byte // the Retry-After value of the 503, shared read-only
}

// New returns an App serving h. Unless cfg.Pool is set it gets its own pool of
// cfg.Workers goroutines, created when the App starts (at its first request) so that
// the defaults set by SetDefaults meanwhile apply; Close stops it.
func New(h Handler, cfg Config) *App {
	return &App{handler: h, given: cfg}
}

// start completes the Config with the process defaults and builds the pool.
func (a *App) start() {
	a.started.Do(func() {
		cfg := a.given.withDefaults(processDefaults.Load()).Normalize()
		a.cfg, a.pool = cfg, cfg.Pool
		if a.pool == nil {
			a.pool = NewPool(PoolConfig{Workers: cfg.Workers, Backlog: cfg.Backlog})
			a.ownPool = true
		}
		a.retryAfter = strconv.AppendInt(nil, int64(max(1, int(cfg.RetryAfter.Round(time.Second)/time.Second))), 10)
	})
}

// processDefaults holds what SetDefaults set; nil means the package defaults.
var processDefaults atomic.Pointer[Config]

// SetDefaults sets the values an App uses for the Workers, Backlog, Timeout and
// RetryAfter fields that its own Config leaves zero (zero fields of d keep the package
// defaults). An App reads them once, when it starts: at its first request, or at the
// first call of Pool or Close. asgo.Serve calls SetDefaults with its Config's WSGI
// field (the --wsgi-* flags) before serving, so apps built before flags were parsed
// follow the flags. Safe for concurrent use.
func SetDefaults(d Config) {
	d = Config{Workers: d.Workers, Backlog: d.Backlog, Timeout: d.Timeout, RetryAfter: d.RetryAfter}
	processDefaults.Store(&d)
}

func (c Config) withDefaults(d *Config) Config {
	if d == nil {
		return c
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Backlog == 0 {
		c.Backlog = d.Backlog
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = d.RetryAfter
	}
	return c
}

// Pool returns the pool the App runs handlers on, starting the App if it has not
// started yet.
func (a *App) Pool() *Pool {
	a.start()
	return a.pool
}

// Close stops the App's own pool after the queued requests ran; a shared Pool is left
// running. Requests arriving after Close are answered 503.
func (a *App) Close() {
	a.start()
	if a.ownPool {
		a.pool.Close()
	}
}

// ServeASGI implements asgi.App. HTTP scopes run the handler on the pool; a WebSocket
// scope is denied (403), since a WSGI handler cannot speak WebSocket; any other scope
// (lifespan) returns ErrUnsupportedScope.
func (a *App) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	return httpx.ServeHTTPOnly(ctx, scope, receive, send, a.serveHTTP, ErrUnsupportedScope)
}

func (a *App) serveHTTP(ctx context.Context, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error {
	a.start()
	if d, ok := asgi.DetacherOf(ctx); ok {
		return a.serveHere(ctx, d, scope, receive, send)
	}
	x := newExchange(ctx, a, scope, receive, send)
	if err := a.pool.TrySubmit(x); err != nil {
		x.reusable = true // no worker saw it
		x.release(true)
		return a.refuse(ctx, scope, send, err)
	}
	return x.wait(ctx)
}

// serveHere runs the handler on the calling goroutine, in a place of the pool: with
// the server's Detacher, a handler over time no longer needs a second goroutine to
// wait for it (the timer answers and ends the call), which saves the two handoffs
// per request of the worker path.
func (a *App) serveHere(ctx context.Context, d asgi.Detacher, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error {
	if err := a.pool.enter(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // the client left while the request waited: nobody to answer
		}
		return a.refuse(ctx, scope, send, err)
	}
	x := newExchange(ctx, a, scope, receive, send)
	err := x.runHere(d)
	a.pool.leave()
	x.release(true)
	return err
}

// refuse answers a request the pool did not admit: 503 with Retry-After.
func (a *App) refuse(ctx context.Context, scope *asgi.HTTPScope, send asgi.Send, err error) error {
	a.cfg.Logger.Debug("wsgi: refusing request", requestAttrs(scope, "err", err)...)
	return httpx.Text(ctx, send, 503, "Service Unavailable\n", asgi.HeaderField{Name: nameRetryAfter, Value: a.retryAfter})
}

// nameRetryAfter is the header name of the 503's Retry-After.
var nameRetryAfter = []byte("retry-after")

// requestAttrs returns the log attributes naming the request, followed by extra.
func requestAttrs(scope *asgi.HTTPScope, extra ...any) []any {
	client := ""
	if scope.Client != nil {
		client = scope.Client.Host + ":" + strconv.Itoa(scope.Client.Port)
	}
	attrs := []any{"method", scope.Method, "path", scope.Path, "client", client}
	return append(attrs, extra...)
}
