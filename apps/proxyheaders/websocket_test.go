package proxyheaders

import (
	"context"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

func wsScope(headers ...string) *asgi.WebSocketScope {
	return &asgi.WebSocketScope{
		ASGI: asgi.DefaultInfo, HTTPVersion: "1.1", Scheme: "ws", Path: "/ws", RawPath: []byte("/ws"),
		Headers: asgi.H(headers...),
		Client:  &asgi.Addr{Host: "127.0.0.1", Port: 40000},
		Server:  &asgi.Addr{Host: "127.0.0.1", Port: 8000},
	}
}

func TestWebSocketSchemeMapping(t *testing.T) {
	for _, tt := range []struct{ proto, want string }{
		{"http", "ws"}, {"https", "wss"}, {"ws", "ws"}, {"wss", "wss"}, {"WSS", "wss"}, {"spdy", "ws"},
	} {
		next := &seen{}
		app, _ := New(next, Config{})
		scope := wsScope("x-forwarded-proto", tt.proto, "x-forwarded-for", "203.0.113.7")
		if err := app.ServeASGI(context.Background(), scope, nil, nil); err != nil {
			t.Fatal(err)
		}
		got := next.scope.(*asgi.WebSocketScope)
		if got.Scheme != tt.want || addr(got.Client) != "203.0.113.7:0" {
			t.Errorf("%s: scheme %s client %s, want %s", tt.proto, got.Scheme, addr(got.Client), tt.want)
		}
		if scope.Scheme != "ws" || addr(scope.Client) != "127.0.0.1:40000" {
			t.Errorf("%s: the server's scope was changed", tt.proto)
		}
	}
	// Forwarded proto maps the same way.
	next := &seen{}
	app, _ := New(next, Config{})
	_ = app.ServeASGI(context.Background(), wsScope("forwarded", "for=203.0.113.7;proto=https"), nil, nil)
	if got := next.scope.(*asgi.WebSocketScope); got.Scheme != "wss" {
		t.Errorf("Forwarded proto=https: scheme %s", got.Scheme)
	}
}

// capable is an app with both capabilities that records the scopes it was asked about.
type capable struct {
	seen
	inlineClient, wsClient string
}

func (c *capable) Inline(scope asgi.Scope) bool {
	c.inlineClient = addr(scope.(*asgi.HTTPScope).Client)
	return true
}

type handler struct{}

func (handler) HandleWebSocket(asgi.Message, asgi.WebSocketSender) error { return nil }

func (c *capable) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	c.wsClient = addr(scope.Client)
	return handler{}
}

func TestCapabilitiesPassThrough(t *testing.T) {
	next := &capable{}
	app, _ := New(next, Config{})
	var _ asgi.Inliner = app
	var _ asgi.WebSocketEventer = app
	h := wsScope("x-forwarded-for", "203.0.113.7")
	if app.WebSocketHandler(h) == nil || next.wsClient != "203.0.113.7:0" {
		t.Fatalf("WebSocketHandler: client %s", next.wsClient)
	}
	s := wsScope() // no headers: the same scope passes
	if app.WebSocketHandler(s) == nil || next.wsClient != "127.0.0.1:40000" {
		t.Fatal("WebSocketHandler without headers")
	}
	hs := &asgi.HTTPScope{Client: &asgi.Addr{Host: "127.0.0.1", Port: 1}, Headers: asgi.H("x-forwarded-for", "203.0.113.9")}
	if !app.Inline(hs) || next.inlineClient != "203.0.113.9:0" {
		t.Fatalf("Inline: client %s", next.inlineClient)
	}
}

func TestLifespanPassesThrough(t *testing.T) {
	next := &seen{}
	app, _ := New(next, Config{})
	ls := &asgi.LifespanScope{}
	if err := app.ServeASGI(context.Background(), ls, nil, nil); err != nil || next.scope != ls {
		t.Fatal("lifespan scope not passed as is")
	}
}

func TestUnchangedScopeIsNotCopied(t *testing.T) {
	next := &seen{}
	app, _ := New(next, Config{})
	for _, h := range [][]string{nil, {"x-forwarded-for", "bogus"}, {"forwarded", "for=_x"}} {
		s := wsScope(h...)
		_ = app.ServeASGI(context.Background(), s, nil, nil)
		if next.scope != asgi.Scope(s) {
			t.Errorf("%v: scope copied without a change", h)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "host.example", "1.2.3"} {
		if _, err := New(&seen{}, Config{Trusted: []string{bad}}); err == nil {
			t.Errorf("%q accepted", bad)
		}
		if Validate(Config{Trusted: []string{bad}}) == nil {
			t.Errorf("Validate(%q) = nil", bad)
		}
	}
	if err := Validate(Config{Trusted: []string{" * ", "::1", "10.0.0.0/8", ""}}); err != nil {
		t.Fatal(err)
	}
}

func TestZeroAllocsWithoutHeaders(t *testing.T) {
	app, _ := New(&seen{}, Config{Trusted: []string{"127.0.0.1"}})
	s := &asgi.HTTPScope{Client: &asgi.Addr{Host: "127.0.0.1", Port: 1}, Headers: asgi.H("host", "x", "accept", "*/*")}
	if n := testing.AllocsPerRun(100, func() { _ = app.ServeASGI(context.Background(), s, nil, nil) }); n != 0 {
		t.Fatalf("%v allocations for a request without proxy headers", n)
	}
}
