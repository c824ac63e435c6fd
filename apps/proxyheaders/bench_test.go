package proxyheaders

import (
	"context"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

func benchScope(headers ...string) *asgi.HTTPScope {
	h := asgi.H("host", "example.com", "user-agent", "bench", "accept", "*/*", "accept-encoding", "gzip")
	return &asgi.HTTPScope{Scheme: "http", Client: &asgi.Addr{Host: "127.0.0.1", Port: 1}, Headers: append(h, asgi.H(headers...)...)}
}

func benchServe(b *testing.B, s *asgi.HTTPScope) {
	app, _ := New(&seen{}, Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = app.ServeASGI(ctx, s, nil, nil)
	}
}

func BenchmarkNoProxyHeaders(b *testing.B) { benchServe(b, benchScope()) }

func BenchmarkNginxHeaders(b *testing.B) {
	benchServe(b, benchScope("x-forwarded-for", "203.0.113.7", "x-forwarded-proto", "https"))
}

func BenchmarkForwarded(b *testing.B) {
	benchServe(b, benchScope("forwarded", `for="[2001:db8::7]:4711";proto=https;host=app.example, for=10.0.0.1`))
}
