package nethttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync/atomic"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Config configures an Adapter. The zero value means the documented defaults.
type Config struct {
	// Logger receives handler panics and misuse reports. If nil, slog.Default() is used.
	Logger *slog.Logger
}

// Adapter serves an http.Handler as an asgi.App. ServeASGI is safe for concurrent use.
type Adapter struct {
	handler http.Handler
	logger  *slog.Logger
	local   atomic.Pointer[localAddr] // the last server address seen, reused
}

// localAddr caches the net.Addr of a server address.
type localAddr struct {
	host string
	port int
	addr net.Addr
}

// New returns an Adapter serving h.
func New(h http.Handler, cfg Config) *Adapter {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Adapter{handler: h, logger: cfg.Logger}
}

// ErrUnsupportedScope is returned for scopes other than http and websocket (a lifespan
// scope): an http.Handler has no lifespan.
var ErrUnsupportedScope = errors.New("nethttp: unsupported scope type")

// ServeASGI implements asgi.App: it runs the handler on the calling goroutine for an
// HTTP scope and denies a WebSocket scope (403), since Hijack is not offered.
func (a *Adapter) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	return httpx.ServeHTTPOnly(ctx, scope, receive, send, a.serveHTTP, ErrUnsupportedScope)
}

func (a *Adapter) serveHTTP(ctx context.Context, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error {
	// ctx is the server's: it is cancelled once ServeASGI returns (the asgi.App
	// contract), as net/http cancels a request's context when ServeHTTP returns.
	req, err := newRequest(ctx, scope, receive, a.localAddr(scope.Server))
	if err != nil {
		return httpx.BadRequest(ctx, send, "400 Bad Request: "+err.Error())
	}
	w := getWriter(ctx, send, scope, a.logger)
	defer putWriter(w)
	h := &writerHandle{w: w}
	defer h.close()
	if err := a.call(h, req); err != nil {
		w.done = true
		return err
	}
	return w.finish()
}

// localAddr returns the http.LocalAddrContextKey value for the server address s.
func (a *Adapter) localAddr(s *asgi.Addr) net.Addr {
	if s == nil {
		return nil
	}
	if c := a.local.Load(); c != nil && c.host == s.Host && c.port == s.Port {
		return c.addr
	}
	c := &localAddr{host: s.Host, port: s.Port, addr: serverAddr(s)}
	a.local.Store(c)
	return c.addr
}

// call runs the handler; a panic becomes an error (logged unless it is
// http.ErrAbortHandler), which makes the server answer 500 or abort the response.
func (a *Adapter) call(w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		err = fmt.Errorf("nethttp: handler panic: %v", v)
		if v == http.ErrAbortHandler {
			err = http.ErrAbortHandler
			return
		}
		a.logger.Error("nethttp: handler panic", "method", r.Method, "path", r.URL.Path,
			"client", r.RemoteAddr, "err", v, "stack", string(debug.Stack()))
	}()
	a.handler.ServeHTTP(w, r)
	return nil
}
