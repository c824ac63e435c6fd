// Command mixed serves three kinds of handlers from one program and one port:
//
//	/wsgi/...   a WSGI-style handler (apps/wsgi), run on a bounded worker pool
//	/go/...     a net/http ServeMux (apps/nethttp)
//	/, /stream  async ASGI-style routes (apps/router), /stream streaming as it produces
//
// apps/mount dispatches by path prefix; apps/router by exact path and method.
//
//	go run ./examples/mixed --bind 127.0.0.1:8000 --wsgi-workers 4
//	curl http://127.0.0.1:8000/wsgi/hello
//	curl http://127.0.0.1:8000/go/hello
//	curl -N 'http://127.0.0.1:8000/stream?n=5&delay=200ms'
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/apps/nethttp"
	"github.com/asgo-dev/asgo/apps/router"
	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// classic is a WSGI-style handler. It runs on a worker of the adapter's pool, so it may
// block (read the body, call a database); when every worker is busy and the backlog is
// full, the adapter answers 503 with Retry-After instead of queueing without bound.
func classic(environ wsgi.Environ, startResponse wsgi.StartResponse) (wsgi.Iterable, error) {
	var body []byte
	switch environ.Get("REQUEST_METHOD") {
	case "POST":
		// wsgi.input streams the request body as it arrives.
		data, err := io.ReadAll(environ.Input())
		if err != nil {
			return nil, err
		}
		body = fmt.Appendf(nil, "wsgi read %d bytes: %s\n", len(data), data)
	default:
		// Mounted at /wsgi: SCRIPT_NAME is the mount point, PATH_INFO the rest.
		body = fmt.Appendf(nil, "wsgi: SCRIPT_NAME=%s PATH_INFO=%s\n", environ.Get("SCRIPT_NAME"), environ.Get("PATH_INFO"))
	}
	if _, err := startResponse("200 OK", [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, nil); err != nil {
		return nil, err
	}
	return wsgi.Bytes(body), nil // the adapter adds Content-Length
}

// mux is an ordinary net/http ServeMux. Mounted at /go, it sees URL.Path with /go
// removed, as with http.StripPrefix.
func mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "net/http: %s (request URI %s, %s)\n", r.URL.Path, r.RequestURI, r.Proto)
	})
	return m
}

// index is an async route: a plain asgi.AppFunc.
func index(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	return text(ctx, send, "async: try /stream, /wsgi/hello and /go/hello\n")
}

// stream sends n lines, one http.response.body (MoreBody true) each, delay apart,
// without a Content-Length: HTTP/1.1 frames it chunked, HTTP/2 as DATA frames. It
// stops early when the client leaves: send then returns asgi.ErrDisconnected and ctx
// is cancelled.
func stream(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	q, _ := url.ParseQuery(string(scope.(*asgi.HTTPScope).QueryString))
	n, err := strconv.Atoi(q.Get("n"))
	if err != nil || n < 0 || n > 1000 {
		n = 3
	}
	delay, err := time.ParseDuration(q.Get("delay"))
	if err != nil || delay < 0 || delay > 10*time.Second {
		delay = 100 * time.Millisecond
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain; charset=utf-8")}); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if i > 1 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil // the client left (or the server stopped waiting)
			}
		}
		if err := send(ctx, &asgi.HTTPResponseBody{Body: fmt.Appendf(nil, "line %d of %d\n", i, n), MoreBody: true}); err != nil {
			return err
		}
	}
	return send(ctx, &asgi.HTTPResponseBody{}) // MoreBody false ends the response
}

func text(ctx context.Context, send asgi.Send, body string) error {
	err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H(
		"content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(body)))})
	if err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
}

// app composes the three. The WSGI pool size comes from Config.Workers, or, left zero
// as here, from --wsgi-workers (asgo.Run applies the flag before the first request).
func app() asgi.App {
	routes := router.New().
		Route([]string{"GET", "HEAD"}, "/", asgi.AppFunc(index)).
		Route([]string{"GET"}, "/stream", asgi.AppFunc(stream))
	return mount.New().
		Add("/wsgi", wsgi.New(wsgi.HandlerFunc(classic), wsgi.Config{})).
		Add("/go", nethttp.New(mux(), nethttp.Config{})).
		Add("/", routes)
}

func main() { asgo.Run(app()) }
