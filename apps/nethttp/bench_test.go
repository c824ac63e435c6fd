package nethttp

import (
	"context"
	"net/http"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// The end-to-end comparison with net/http's own server lives in bench/; this measures
// the adapter's own cost per request in process.

func BenchmarkAdapterHello(b *testing.B) {
	msg := []byte("Hello, World!")
	a := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(msg)
	}), Config{})
	scope := asgitest.NewHTTPScope("GET", "/", "host", "localhost:8000", "user-agent", "bench", "accept", "*/*")
	send := func(context.Context, asgi.Message) error { return nil }
	receive := func(context.Context) (asgi.Message, error) { return &asgi.HTTPRequest{}, nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := a.ServeASGI(context.Background(), scope, receive, send); err != nil {
			b.Fatal(err)
		}
	}
}
