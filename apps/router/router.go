package router

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/asgo-dev/asgo/apps/fanout"
	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// route holds everything registered for one path.
type route struct {
	methods []string   // upper-case, in registration order
	apps    []asgi.App // apps[i] serves methods[i]
	allow   []byte     // "GET, HEAD": the Allow header of a 405
	ws      asgi.App   // WebSocket app, or nil
}

func (r *route) app(method string) asgi.App {
	for i, m := range r.methods {
		if m == method {
			return r.apps[i]
		}
	}
	return nil
}

// Router dispatches by exact path and method. Register routes with Route and WebSocket
// before it serves; after that it is read-only and ServeASGI and Inline are safe for
// concurrent use. Use New to create one.
type Router struct {
	routes   map[string]*route
	members  []fanout.Member // every registered app, for lifespan
	methods  []string        // every method registered at any path, in order
	allowAll []byte          // the Allow header of OPTIONS *: methods and OPTIONS
}

// New returns an empty Router.
func New() *Router { return &Router{routes: make(map[string]*route)} }

// Route registers app for the HTTP methods (upper-case, e.g. "GET", "HEAD") at path,
// which must start with "/". Registering a method twice for a path panics, as it is a
// programming error. Route must not be called once the Router serves.
func (r *Router) Route(methods []string, path string, app asgi.App) *Router {
	rt := r.entry(path, app)
	for _, m := range methods {
		if m == "" || m != strings.ToUpper(m) {
			panic(fmt.Sprintf("router: method %q at %q must be upper-case", m, path))
		}
		if rt.app(m) != nil {
			panic(fmt.Sprintf("router: %s %s registered twice", m, path))
		}
		rt.methods = append(rt.methods, m)
		rt.apps = append(rt.apps, app)
		if !slices.Contains(r.methods, m) {
			r.methods = append(r.methods, m)
		}
	}
	rt.allow = []byte(strings.Join(rt.methods, ", "))
	all := r.methods
	if !slices.Contains(all, "OPTIONS") {
		all = append(slices.Clip(all), "OPTIONS")
	}
	r.allowAll = []byte(strings.Join(all, ", "))
	return r
}

// WebSocket registers app for WebSocket scopes at path. Registering a path twice
// panics. WebSocket must not be called once the Router serves.
func (r *Router) WebSocket(path string, app asgi.App) *Router {
	rt := r.entry(path, app)
	if rt.ws != nil {
		panic(fmt.Sprintf("router: WebSocket %s registered twice", path))
	}
	rt.ws = app
	return r
}

func (r *Router) entry(path string, app asgi.App) *route {
	if !strings.HasPrefix(path, "/") {
		panic(fmt.Sprintf("router: path %q must start with '/'", path))
	}
	if app == nil {
		panic(fmt.Sprintf("router: nil app at %q", path))
	}
	r.members = fanout.Unique(append(r.members, fanout.Member{Name: path, App: app}))
	rt := r.routes[path]
	if rt == nil {
		rt = &route{}
		r.routes[path] = rt
	}
	return rt
}

// lookup returns the route for a scope's root path and path, or nil.
func (r *Router) lookup(root, path string) *route {
	p := mount.RoutePath(root, path)
	if p == "" {
		p = "/"
	}
	return r.routes[p]
}

// ServeASGI dispatches scope to the matching app, or answers 404 / 405 itself, and
// OPTIONS * with 200 and an Allow header of every registered method.
// Lifespan scopes are fanned out to every registered app.
func (r *Router) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		return r.serveHTTP(ctx, s, receive, send)
	case *asgi.WebSocketScope:
		rt := r.lookup(s.RootPath, s.Path)
		if rt == nil || rt.ws == nil {
			return httpx.RefuseWebSocket(ctx, send)
		}
		return rt.ws.ServeASGI(ctx, s, receive, send)
	case *asgi.LifespanScope:
		return fanout.Lifespan(ctx, s, receive, send, r.members)
	}
	return fmt.Errorf("router: unsupported scope type %q", scope.Type())
}

func (r *Router) serveHTTP(ctx context.Context, s *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error {
	if isAsterisk(s) {
		return r.serverOptions(ctx, send)
	}
	rt := r.lookup(s.RootPath, s.Path)
	if rt == nil || len(rt.methods) == 0 {
		return httpx.NotFound(ctx, send)
	}
	app := rt.app(s.Method)
	if app == nil {
		return httpx.MethodNotAllowed(ctx, send, rt.allow)
	}
	return app.ServeASGI(ctx, s, receive, send)
}

// isAsterisk reports whether s is "OPTIONS *" (RFC 9112 3.2.4): a question about the
// server rather than a resource. Servers pass the target "*" as the path, after the
// root path if one is configured.
func isAsterisk(s *asgi.HTTPScope) bool {
	return s.Method == "OPTIONS" && (s.Path == "*" || s.Path == s.RootPath+"*")
}

// serverOptions answers OPTIONS * with 200, an empty body and an Allow header listing
// every method registered at any path, and OPTIONS (RFC 9110 9.3.7).
func (r *Router) serverOptions(ctx context.Context, send asgi.Send) error {
	headers := asgi.Headers{
		{Name: httpx.NameAllow, Value: r.allowAll},
		{Name: httpx.NameContentLength, Value: zero},
	}
	return httpx.Full(ctx, send, 200, headers, nil)
}

var zero = []byte("0")

// WebSocketHandler passes the event-mode choice (asgi.WebSocketEventer) on to the
// WebSocket app registered for scope's path. Unregistered paths get nil: ServeASGI
// refuses them.
func (r *Router) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	rt := r.lookup(scope.RootPath, scope.Path)
	if rt == nil || rt.ws == nil {
		return nil
	}
	return asgi.WebSocketHandlerFor(rt.ws, scope)
}

// Recycles reports whether every app registered for HTTP methods keeps nothing of its
// inline calls (asgi.CanRecycle); the router's own 404, 405 and OPTIONS answers keep
// nothing. Ask it once all routes are registered.
func (r *Router) Recycles() bool {
	for _, rt := range r.routes {
		for _, app := range rt.apps {
			if !asgi.CanRecycle(app) {
				return false
			}
		}
	}
	return true
}

// RecyclesBody reports what the app matched for an HTTP scope says
// (asgi.CanRecycleBody); the router's own answers read no body. Safe for concurrent use.
func (r *Router) RecyclesBody(scope asgi.Scope) bool {
	app, s, ok := r.target(scope)
	return ok && (app == nil || asgi.CanRecycleBody(app, s))
}

// Inline reports whether an HTTP scope can be served on the event loop: true when the
// router answers 404 or 405 itself, else what the matched app's Inline says. It does
// not allocate and is safe for concurrent use.
func (r *Router) Inline(scope asgi.Scope) bool {
	app, s, ok := r.target(scope)
	return ok && (app == nil || asgi.CanInline(app, s))
}

// target returns the app an HTTP scope goes to, or nil when the router answers it
// itself (404, 405, OPTIONS *); ok is false for other scopes.
func (r *Router) target(scope asgi.Scope) (app asgi.App, s *asgi.HTTPScope, ok bool) {
	s, ok = scope.(*asgi.HTTPScope)
	if !ok {
		return nil, nil, false
	}
	rt := r.lookup(s.RootPath, s.Path)
	if rt == nil || len(rt.methods) == 0 || isAsterisk(s) {
		return nil, s, true
	}
	return rt.app(s.Method), s, true
}
