package mount

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/asgo-dev/asgo/apps/fanout"
	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// RoutePath returns the path an app routes on: path with the root path prefix removed
// when root is a segment-aligned prefix of path ("" when path equals root), and path
// unchanged otherwise (as Starlette's get_route_path). It does not allocate.
func RoutePath(root, path string) string {
	if root == "" || !strings.HasPrefix(path, root) {
		return path
	}
	if len(path) == len(root) {
		return ""
	}
	if path[len(root)] == '/' {
		return path[len(root):]
	}
	return path
}

// matchPrefix reports whether the route path p falls under prefix at a segment boundary.
// The prefix "/" matches every path.
func matchPrefix(prefix, p string) bool {
	if prefix == "/" {
		return true
	}
	return strings.HasPrefix(p, prefix) && (len(p) == len(prefix) || p[len(prefix)] == '/')
}

// point is one mounted app.
type point struct {
	prefix string // "/" for the fallback, else "/a/b" without a trailing slash
	app    asgi.App
}

// Mount dispatches scopes to apps by path prefix. Build it with New and Add before it
// serves; after that it is read-only and ServeASGI and Inline are safe for concurrent
// use. The zero value is an empty Mount that answers 404 to everything.
type Mount struct {
	byLength []point // longest prefix first
	ordered  []point // in the order added, for lifespan
}

// New returns an empty Mount.
func New() *Mount { return &Mount{} }

// Add mounts app at prefix. prefix must start with "/", must not end with "/" (except
// "/" itself, the fallback) and must not be mounted yet; Add panics otherwise, as it is
// a programming error. Add must not be called once the Mount serves.
func (m *Mount) Add(prefix string, app asgi.App) *Mount {
	if err := validPrefix(prefix); err != nil {
		panic(err)
	}
	if app == nil {
		panic(fmt.Sprintf("mount: nil app at %q", prefix))
	}
	for _, p := range m.ordered {
		if p.prefix == prefix {
			panic(fmt.Sprintf("mount: prefix %q mounted twice", prefix))
		}
	}
	pt := point{prefix: prefix, app: app}
	m.ordered = append(m.ordered, pt)
	m.byLength = append(m.byLength, pt)
	slices.SortStableFunc(m.byLength, func(a, b point) int { return len(b.prefix) - len(a.prefix) })
	return m
}

func validPrefix(prefix string) error {
	switch {
	case prefix == "/":
		return nil
	case !strings.HasPrefix(prefix, "/"):
		return fmt.Errorf("mount: prefix %q must start with '/'", prefix)
	case strings.HasSuffix(prefix, "/"):
		return fmt.Errorf("mount: prefix %q must not end with '/'", prefix)
	}
	return nil
}

// match returns the mounted point for a scope's root path and path.
func (m *Mount) match(root, path string) (point, bool) {
	rp := RoutePath(root, path)
	for _, p := range m.byLength {
		if matchPrefix(p.prefix, rp) {
			return p, true
		}
	}
	return point{}, false
}

// childRoot returns the RootPath the app mounted at prefix sees.
func childRoot(root, prefix string) string {
	if prefix == "/" {
		return root
	}
	return root + prefix
}

// ServeASGI dispatches scope. HTTP scopes without a match get 404; WebSocket scopes
// without a match are closed before acceptance (the server answers 403). Lifespan
// scopes are fanned out to every mounted app.
func (m *Mount) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		p, ok := m.match(s.RootPath, s.Path)
		if !ok {
			return httpx.NotFound(ctx, send)
		}
		return p.app.ServeASGI(ctx, httpChild(s, p.prefix), receive, send)
	case *asgi.WebSocketScope:
		p, ok := m.match(s.RootPath, s.Path)
		if !ok {
			return httpx.RefuseWebSocket(ctx, send)
		}
		return p.app.ServeASGI(ctx, wsChild(s, p.prefix), receive, send)
	case *asgi.LifespanScope:
		return fanout.Lifespan(ctx, s, receive, send, m.members())
	}
	return fmt.Errorf("mount: unsupported scope type %q", scope.Type())
}

// httpChild returns the scope the app at prefix sees: s itself for the fallback, else
// a shallow copy with the longer RootPath.
func httpChild(s *asgi.HTTPScope, prefix string) *asgi.HTTPScope {
	if prefix == "/" {
		return s
	}
	c := *s
	c.RootPath = childRoot(s.RootPath, prefix)
	return &c
}

func wsChild(s *asgi.WebSocketScope, prefix string) *asgi.WebSocketScope {
	if prefix == "/" {
		return s
	}
	c := *s
	c.RootPath = childRoot(s.RootPath, prefix)
	return &c
}

func (m *Mount) members() []fanout.Member {
	ms := make([]fanout.Member, len(m.ordered))
	for i, p := range m.ordered {
		ms[i] = fanout.Member{Name: p.prefix, App: p.app}
	}
	return ms
}

// WebSocketHandler passes the event-mode choice (asgi.WebSocketEventer) on to the app
// mounted for scope, with the child scope that app would see. Unmatched scopes get
// nil: ServeASGI refuses them.
func (m *Mount) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	p, ok := m.match(scope.RootPath, scope.Path)
	if !ok {
		return nil
	}
	if _, ok := p.app.(asgi.WebSocketEventer); !ok {
		return nil // no child scope to build
	}
	return asgi.WebSocketHandlerFor(p.app, wsChild(scope, p.prefix))
}

// Recycles reports whether every mounted app keeps nothing of its inline calls
// (asgi.CanRecycle); the mount's own 404 keeps nothing. Ask it once every app is added.
func (m *Mount) Recycles() bool {
	for _, p := range m.ordered {
		if !asgi.CanRecycle(p.app) {
			return false
		}
	}
	return true
}

// RecyclesBody reports what the app mounted for an HTTP scope says of its child scope
// (asgi.CanRecycleBody); the mount's own 404 reads no body. Safe for concurrent use.
func (m *Mount) RecyclesBody(scope asgi.Scope) bool {
	return m.askChild(scope, func(app asgi.App) bool {
		_, ok := app.(asgi.BodyRecycler)
		return ok
	}, asgi.CanRecycleBody)
}

// Inline reports whether the scope can be served on the event loop: true for an HTTP
// scope nothing matches (the 404 never blocks), else what the matched app says for its
// child scope. Safe for concurrent use; it allocates only when the match is not the
// fallback and the matched app implements asgi.Inliner.
func (m *Mount) Inline(scope asgi.Scope) bool {
	return m.askChild(scope, func(app asgi.App) bool {
		_, ok := app.(asgi.Inliner)
		return ok
	}, asgi.CanInline)
}

// askChild answers a question about an HTTP scope with the answer of the app mounted
// for it, asked about its child scope: true when nothing matches (the mount answers
// itself), false for other scopes and for an app that cannot answer (answers is false:
// checked first, since building the child scope allocates).
func (m *Mount) askChild(scope asgi.Scope, answers func(asgi.App) bool, ask func(asgi.App, asgi.Scope) bool) bool {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return false
	}
	p, ok := m.match(s.RootPath, s.Path)
	if !ok {
		return true
	}
	return answers(p.app) && ask(p.app, httpChild(s, p.prefix))
}
