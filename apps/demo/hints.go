package demo

import (
	"context"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// StaticIndexHints are the early hints of the static index page: its stylesheet, which
// a browser can fetch while the page itself is still on its way.
var StaticIndexHints = []string{"</static/style.css>; rel=preload; as=style"}

// EarlyHints wraps app so that a GET of one of paths first sends a 103 Early Hints
// (http.response.early_hint) with links, when the server advertises the extension in
// the scope; HEAD and servers without it get app's answer alone. It passes Inline and
// WebSocketHandler on. The returned app is safe for concurrent use if app is; links
// and paths are copied.
func EarlyHints(app asgi.App, links []string, paths ...string) asgi.App {
	h := &hinted{app: app, paths: make(map[string]bool, len(paths))}
	for _, l := range links {
		h.links = append(h.links, []byte(l))
	}
	for _, p := range paths {
		h.paths[p] = true
	}
	return h
}

type hinted struct {
	app   asgi.App
	links [][]byte // read-only
	paths map[string]bool
}

func (h *hinted) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if s, ok := scope.(*asgi.HTTPScope); ok && s.Method == "GET" && h.paths[s.Path] {
		if _, ok := s.Extensions[asgi.ExtHTTPResponseEarlyHint]; ok {
			if err := send(ctx, &asgi.HTTPResponseEarlyHint{Links: h.links}); err != nil {
				return err
			}
		}
	}
	return h.app.ServeASGI(ctx, scope, receive, send)
}

// Inline reports what the wrapped app says: sending a hint never blocks.
func (h *hinted) Inline(scope asgi.Scope) bool { return asgi.CanInline(h.app, scope) }

// Recycles reports what the wrapped app says: the hints keep nothing of a call.
func (h *hinted) Recycles() bool { return asgi.CanRecycle(h.app) }

// RecyclesBody reports what the wrapped app says.
func (h *hinted) RecyclesBody(scope asgi.Scope) bool { return asgi.CanRecycleBody(h.app, scope) }

// WebSocketHandler reports what the wrapped app says.
func (h *hinted) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	return asgi.WebSocketHandlerFor(h.app, scope)
}
