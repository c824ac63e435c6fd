package proxyheaders

import (
	"context"
	"net/netip"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// FuzzHeaders checks that no header value panics, that a client set from the headers
// is a valid IP address, and that the server's scope is never changed.
func FuzzHeaders(f *testing.F) {
	f.Add("203.0.113.7, 10.0.0.1", "https", `for="[2001:db8::1]:80";proto=http;host=a.example, for=_x`)
	f.Add("", "", "for=")
	f.Add("[::1]:1", "WSS,http", `for="\\";by=1`)
	f.Fuzz(func(t *testing.T, xff, xfp, fwd string) {
		next := &seen{}
		app, _ := New(next, Config{Trusted: []string{"127.0.0.1", "10.0.0.0/8"}})
		s := &asgi.HTTPScope{Scheme: "http", Client: &asgi.Addr{Host: "127.0.0.1", Port: 1},
			Headers: asgi.H("x-forwarded-for", xff, "x-forwarded-proto", xfp, "forwarded", fwd)}
		_ = app.ServeASGI(context.Background(), s, nil, nil)
		got := next.scope.(*asgi.HTTPScope)
		if s.Client.Host != "127.0.0.1" || s.Scheme != "http" || len(s.Headers) != 3 {
			t.Fatal("the server's scope was changed")
		}
		if _, err := netip.ParseAddr(got.Client.Host); err != nil {
			t.Fatalf("client %q", got.Client.Host)
		}
		if got.Scheme != "http" && got.Scheme != "https" {
			t.Fatalf("scheme %q", got.Scheme)
		}
	})
}
