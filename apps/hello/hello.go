package hello

import (
	"context"
	"fmt"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Body is the response body.
const Body = "Hello, World!"

// Hello is the hello-world app. The zero value is ready to use and safe for concurrent
// use; App is the value to serve.
type Hello struct{}

// App serves "Hello, World!". It is what `asgo serve --app hello` runs.
var App asgi.App = Hello{}

// The response is built once and shared by every request: Send does not retain or
// modify messages, so the same read-only values are handed to every call.
var (
	start = &asgi.HTTPResponseStart{Status: 200, Headers: asgi.Headers{
		{Name: httpx.NameContentType, Value: httpx.TextPlain},
		{Name: httpx.NameContentLength, Value: []byte(fmt.Sprint(len(Body)))},
	}}
	body  = &asgi.HTTPResponseBody{Body: []byte(Body)}
	allow = []byte("GET, HEAD")
)

// ServeASGI answers GET and HEAD with the greeting and other methods with 405. It never
// calls receive. WebSocket scopes are refused before acceptance (403); lifespan is not
// supported (an error, which servers in auto mode take as "unsupported").
func (Hello) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		if s.Method != "GET" && s.Method != "HEAD" {
			return httpx.MethodNotAllowed(ctx, send, allow)
		}
		if err := send(ctx, start); err != nil {
			return err
		}
		return send(ctx, body)
	case *asgi.WebSocketScope:
		return httpx.RefuseWebSocket(ctx, send)
	}
	return fmt.Errorf("hello: unsupported scope type %q", scope.Type())
}

// Inline reports true for HTTP scopes: hello never blocks.
func (Hello) Inline(scope asgi.Scope) bool {
	_, ok := scope.(*asgi.HTTPScope)
	return ok
}

// Recycles reports true: hello keeps nothing of a call, so a server may reuse the
// scope, receive and send of its inline calls (asgi.Recycler).
func (Hello) Recycles() bool { return true }

// Goroutine is the same app without the Inline method, so a server runs it off the event
// loop on a goroutine of its own, as it runs any app that may block. It is what `asgo
// serve --app hello-goroutine` and the demo's /hello-goroutine run: the benchmarks
// compare the WSGI-style path with it, since both leave the loop.
var Goroutine asgi.App = offLoop{}

// offLoop is Hello without asgi.Inliner.
type offLoop struct{}

func (offLoop) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	return Hello{}.ServeASGI(ctx, scope, receive, send)
}
