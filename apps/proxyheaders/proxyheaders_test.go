package proxyheaders

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// seen records the scope the wrapped app was called with.
type seen struct{ scope asgi.Scope }

func (s *seen) ServeASGI(_ context.Context, scope asgi.Scope, _ asgi.Receive, _ asgi.Send) error {
	s.scope = scope
	return nil
}

func addr(a *asgi.Addr) string {
	if a == nil {
		return "nil"
	}
	return fmt.Sprintf("%s:%d", a.Host, a.Port)
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		peer    string // scope client host; "" for none
		headers []string
		client  string // after
		scheme  string
		host    string
	}{
		{"untrusted peer changes nothing", nil, "192.0.2.1",
			[]string{"x-forwarded-for", "203.0.113.7", "x-forwarded-proto", "https", "forwarded", "for=203.0.113.8;host=evil"},
			"192.0.2.1:40000", "http", "example.com"},
		{"default trusts 127.0.0.1", nil, "127.0.0.1", []string{"x-forwarded-for", "203.0.113.7"}, "203.0.113.7:0", "http", "example.com"},
		{"proto https", nil, "127.0.0.1", []string{"x-forwarded-proto", "HTTPS"}, "127.0.0.1:40000", "https", "example.com"},
		{"proto wss on http scope", nil, "127.0.0.1", []string{"x-forwarded-proto", "wss"}, "127.0.0.1:40000", "https", "example.com"},
		{"proto list takes the right-most", nil, "127.0.0.1", []string{"x-forwarded-proto", "http, https"}, "127.0.0.1:40000", "https", "example.com"},
		{"bad proto ignored", nil, "127.0.0.1", []string{"x-forwarded-proto", "ftp", "x-forwarded-for", "203.0.113.7"}, "203.0.113.7:0", "http", "example.com"},
		{"hops: right-most untrusted", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1",
			[]string{"x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.1.1.1, 10.2.2.2"}, "203.0.113.7:0", "http", "example.com"},
		{"hops across repeated fields", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1",
			[]string{"x-forwarded-for", "198.51.100.1", "x-forwarded-for", "10.2.2.2"}, "198.51.100.1:0", "http", "example.com"},
		{"all hops trusted: left-most", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1",
			[]string{"x-forwarded-for", "10.9.9.9,10.2.2.2"}, "10.9.9.9:0", "http", "example.com"},
		{"star trusts everyone, takes the left-most", []string{"*"}, "192.0.2.1",
			[]string{"x-forwarded-for", "198.51.100.1, 203.0.113.7"}, "198.51.100.1:0", "http", "example.com"},
		{"star without a client", []string{"*"}, "", []string{"x-forwarded-for", "198.51.100.1"}, "198.51.100.1:0", "http", "example.com"},
		{"no client is not trusted", nil, "", []string{"x-forwarded-for", "198.51.100.1"}, "nil", "http", "example.com"},
		{"ipv6 hop", []string{"::1"}, "::1", []string{"x-forwarded-for", "2001:db8::7"}, "2001:db8::7:0", "http", "example.com"},
		{"bracketed ipv6 with port", nil, "127.0.0.1", []string{"x-forwarded-for", "[2001:db8::7]:4711"}, "2001:db8::7:4711", "http", "example.com"},
		{"ipv4 with port", nil, "127.0.0.1", []string{"x-forwarded-for", "203.0.113.7:5000"}, "203.0.113.7:5000", "http", "example.com"},
		{"mapped peer is trusted", nil, "::ffff:127.0.0.1", []string{"x-forwarded-for", "203.0.113.7"}, "203.0.113.7:0", "http", "example.com"},
		{"malformed hop ignored", nil, "127.0.0.1", []string{"x-forwarded-for", "203.0.113.7, garbage"}, "127.0.0.1:40000", "http", "example.com"},
		{"empty hop ignored", nil, "127.0.0.1", []string{"x-forwarded-for", "203.0.113.7, "}, "127.0.0.1:40000", "http", "example.com"},
		{"zone refused", nil, "127.0.0.1", []string{"x-forwarded-for", "fe80::1%eth0"}, "127.0.0.1:40000", "http", "example.com"},

		{"forwarded for proto host", nil, "127.0.0.1",
			[]string{"forwarded", "for=203.0.113.7;proto=https;host=app.example"}, "203.0.113.7:0", "https", "app.example"},
		{"forwarded quoted ipv6 with port", nil, "127.0.0.1",
			[]string{"forwarded", `For="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17:4711", "http", "example.com"},
		{"forwarded walks from the right", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1",
			[]string{"forwarded", "for=198.51.100.1;proto=http, for=203.0.113.7;proto=https, for=10.0.0.2;proto=http"}, "203.0.113.7:0", "https", "example.com"},
		{"forwarded repeated fields", []string{"127.0.0.1", "10.0.0.0/8"}, "127.0.0.1",
			[]string{"forwarded", "for=203.0.113.7", "forwarded", `for="10.0.0.2"`}, "203.0.113.7:0", "http", "example.com"},
		{"forwarded obfuscated keeps the client", nil, "127.0.0.1",
			[]string{"forwarded", "for=_hidden;proto=https"}, "127.0.0.1:40000", "https", "example.com"},
		{"forwarded unknown further left", nil, "127.0.0.1",
			[]string{"forwarded", "for=unknown, for=203.0.113.7"}, "203.0.113.7:0", "http", "example.com"},
		{"forwarded by only", nil, "127.0.0.1", []string{"forwarded", "by=203.0.113.43;proto=https"}, "127.0.0.1:40000", "https", "example.com"},
		{"forwarded quoted escapes", nil, "127.0.0.1", []string{"forwarded", `for="203.0.113.\7"`}, "203.0.113.7:0", "http", "example.com"},
		{"forwarded bad syntax ignored", nil, "127.0.0.1", []string{"forwarded", "for=203.0.113.7;proto"}, "127.0.0.1:40000", "http", "example.com"},
		{"forwarded unquoted ipv6 ignored", nil, "127.0.0.1", []string{"forwarded", "for=[2001:db8::1]"}, "127.0.0.1:40000", "http", "example.com"},
		{"forwarded unterminated quote", nil, "127.0.0.1", []string{"forwarded", `for="203.0.113.7`}, "127.0.0.1:40000", "http", "example.com"},
		{"forwarded repeated for", nil, "127.0.0.1", []string{"forwarded", "for=203.0.113.7;for=203.0.113.8"}, "127.0.0.1:40000", "http", "example.com"},
		{"forwarded bad host", nil, "127.0.0.1", []string{"forwarded", `for=203.0.113.7;host="a b"`}, "127.0.0.1:40000", "http", "example.com"},
		{"forwarded bad proto", nil, "127.0.0.1", []string{"forwarded", "for=203.0.113.7;proto=gopher"}, "203.0.113.7:0", "http", "example.com"},
		{"x-forwarded-* win over forwarded", nil, "127.0.0.1",
			[]string{"forwarded", "for=198.51.100.1;proto=http;host=f.example", "x-forwarded-for", "203.0.113.7", "x-forwarded-proto", "https"},
			"203.0.113.7:0", "https", "f.example"},
		{"forwarded fills in the proto", nil, "127.0.0.1",
			[]string{"forwarded", "for=198.51.100.1;proto=https", "x-forwarded-for", "203.0.113.7"}, "203.0.113.7:0", "https", "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &seen{}
			app, err := New(next, Config{Trusted: tt.trusted})
			if err != nil {
				t.Fatal(err)
			}
			scope := asgitest.NewHTTPScope("GET", "/", append([]string{"host", "example.com"}, tt.headers...)...)
			if tt.peer == "" {
				scope.Client = nil
			} else {
				scope.Client.Host = tt.peer
			}
			orig := *scope
			origHeaders := append(asgi.Headers{}, scope.Headers...)
			var origClient asgi.Addr
			if scope.Client != nil {
				origClient = *scope.Client
			}
			if err := app.ServeASGI(context.Background(), scope, nil, nil); err != nil {
				t.Fatal(err)
			}
			got := next.scope.(*asgi.HTTPScope)
			if addr(got.Client) != tt.client || got.Scheme != tt.scheme || string(got.Headers.Get("host")) != tt.host {
				t.Fatalf("client %s scheme %s host %s; want %s %s %s", addr(got.Client), got.Scheme, got.Headers.Get("host"), tt.client, tt.scheme, tt.host)
			}
			if len(got.Headers.Values("host")) != 1 {
				t.Fatalf("host fields %q", got.Headers.Values("host"))
			}
			// The server's scope is untouched.
			if scope.Scheme != orig.Scheme || scope.Client != orig.Client || !reflect.DeepEqual(scope.Headers, origHeaders) ||
				(scope.Client != nil && *scope.Client != origClient) {
				t.Fatal("the server's scope was changed")
			}
			if app.Inline(scope) {
				t.Fatal("Inline true for an app that is not an Inliner")
			}
		})
	}
}
