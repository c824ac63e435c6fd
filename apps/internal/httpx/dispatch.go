package httpx

import (
	"context"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// ServeHTTPFunc serves one HTTP scope, as the HTTP half of an asgi.App.
type ServeHTTPFunc func(ctx context.Context, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error

// ServeHTTPOnly is ServeASGI for an app that serves only HTTP (an adapter for blocking
// handlers): an HTTP scope goes to serve, a WebSocket scope is refused before it is
// accepted (RefuseWebSocket; the server answers 403), and any other scope (lifespan)
// returns unsupported without sending anything. Safe for concurrent use when serve is.
func ServeHTTPOnly(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send, serve ServeHTTPFunc, unsupported error) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		return serve(ctx, s, receive, send)
	case *asgi.WebSocketScope:
		return RefuseWebSocket(ctx, send)
	}
	return unsupported
}
