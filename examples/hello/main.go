// Command hello serves a small ASGI-style app with asgo.Run: the whole main is one call,
// and the program takes the flags of `asgo serve` (./hello --help).
//
//	go run ./examples/hello --bind 127.0.0.1:8000
//	curl 'http://127.0.0.1:8000/?name=Ada'
//	curl --http2-prior-knowledge -d 'Grace' http://127.0.0.1:8000/
package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// maxName bounds the request body the app reads: it is a name, not an upload.
const maxName = 1 << 10

// hello greets the name given as ?name= or as the request body, over HTTP/1.1 and
// HTTP/2 alike.
type hello struct{}

// ServeASGI is called once per request (and once for the lifespan, and once per
// WebSocket connection).
func (hello) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		// Returning nil on a lifespan scope says "no lifespan here"; a WebSocket
		// scope refused before websocket.accept gets a 403.
		if _, ws := scope.(*asgi.WebSocketScope); ws {
			return send(ctx, &asgi.WebSocketClose{})
		}
		return nil
	}
	// The body arrives as http.request messages; MoreBody false marks the last one.
	// The bytes belong to the app: keeping them is fine.
	var body []byte
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		req, ok := msg.(*asgi.HTTPRequest)
		if !ok {
			return nil // http.disconnect: the client left, nobody to answer
		}
		body = append(body, req.Body...)
		if len(body) > maxName {
			return text(ctx, send, 413, "that name is too long\n")
		}
		if !req.MoreBody {
			break
		}
	}
	name := string(bytes.TrimSpace(body))
	if q, err := url.ParseQuery(string(s.QueryString)); err == nil && q.Get("name") != "" {
		name = q.Get("name")
	}
	if name == "" {
		name = "world"
	}
	return text(ctx, send, 200, fmt.Sprintf("Hello, %s! (%s %s over HTTP/%s)\n", name, s.Method, s.Path, s.HTTPVersion))
}

// Inline lets the server run bodiless GET and HEAD requests right on the event loop,
// without a goroutine handoff: for them ServeASGI never blocks (the only http.request
// is already there, and send does not wait for the network). Requests with a body run
// on a goroutine, as do all requests of an app that does not implement asgi.Inliner.
func (hello) Inline(scope asgi.Scope) bool {
	s, ok := scope.(*asgi.HTTPScope)
	return ok && (s.Method == "GET" || s.Method == "HEAD")
}

// Recycles promises that an inline call keeps nothing once ServeASGI returns: not the
// scope or its strings and slices, not receive or send. The server then reuses them for
// the next request instead of allocating new ones (asgi.Recycler). An app that keeps the
// scope, or hands send to a goroutine, must not implement it.
func (hello) Recycles() bool { return true }

// text sends a whole plain-text response: http.response.start, then one
// http.response.body whose MoreBody is false.
func text(ctx context.Context, send asgi.Send, status int, body string) error {
	err := send(ctx, &asgi.HTTPResponseStart{Status: status, Headers: asgi.H(
		"content-type", "text/plain; charset=utf-8",
		"content-length", strconv.Itoa(len(body)),
	)})
	if err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
}

func main() { asgo.Run(hello{}) }
