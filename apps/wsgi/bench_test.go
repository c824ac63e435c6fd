package wsgi

import (
	"context"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// The end-to-end comparison (WSGI-style hello vs async hello over real connections)
// lives in bench/; these measure the adapter's own cost per request in process.

var helloBody = []byte("Hello, world!\n")

func discard(context.Context, asgi.Message) error { return nil }

func emptyBody(context.Context) (asgi.Message, error) { return &asgi.HTTPRequest{}, nil }

func benchApp(b *testing.B, app asgi.App) {
	scope := scopeFor("1.1", "GET", "/", "host", "localhost", "user-agent", "bench", "accept", "*/*")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// A context per request that ends with it, as the server gives one.
			ctx, cancel := context.WithCancel(context.Background())
			if err := app.ServeASGI(ctx, scope, emptyBody, discard); err != nil {
				b.Fatal(err)
			}
			cancel()
		}
	})
}

func BenchmarkAsyncHello(b *testing.B) {
	benchApp(b, asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain", "content-length", "14")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: helloBody})
	}))
}

func BenchmarkWSGIHello(b *testing.B) {
	app := New(HandlerFunc(func(e Environ, start StartResponse) (Iterable, error) {
		_, err := start("200 OK", [][2]string{{"Content-Type", "text/plain"}}, nil)
		return Bytes(helloBody), err
	}), Config{Workers: 8, Backlog: 1024})
	defer app.Close()
	benchApp(b, app)
}
