package httpx

import (
	"context"
	"errors"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestServeHTTPOnly(t *testing.T) {
	errUnsupported := errors.New("test: unsupported scope type")
	served := 0
	serve := func(ctx context.Context, s *asgi.HTTPScope, r asgi.Receive, send asgi.Send) error {
		served++
		return Text(ctx, send, 200, s.Path)
	}
	ctx := context.Background()

	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := ServeHTTPOnly(ctx, asgitest.NewHTTPScope("GET", "/x"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send, serve, errUnsupported); err != nil {
		t.Fatal(err)
	}
	if resp := rec.Response(); served != 1 || resp.Status != 200 || string(resp.Body) != "/x" {
		t.Fatalf("http scope: served %d times, sent %s", served, rec)
	}

	rec = asgitest.NewRecorder(asgi.ScopeWebSocket)
	if err := ServeHTTPOnly(ctx, &asgi.WebSocketScope{}, asgitest.Script(nil, &asgi.WebSocketConnect{}), rec.Send, serve, errUnsupported); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Messages[0].(*asgi.WebSocketClose); !ok || len(rec.Messages) != 1 || served != 1 {
		t.Fatalf("websocket scope: sent %s, want one close (403 denial)", rec)
	}

	rec = asgitest.NewRecorder(asgi.ScopeLifespan)
	if err := ServeHTTPOnly(ctx, &asgi.LifespanScope{}, asgitest.Script(nil), rec.Send, serve, errUnsupported); !errors.Is(err, errUnsupported) {
		t.Fatalf("lifespan scope: %v, want %v", err, errUnsupported)
	}
	if len(rec.Messages) != 0 || served != 1 {
		t.Fatalf("lifespan scope: sent %s", rec)
	}
}

func TestJoinValues(t *testing.T) {
	tests := []struct {
		h    asgi.Headers
		want string
	}{
		{nil, ""},
		{asgi.H("a", ""), ""},
		{asgi.H("a", "1"), "1"},
		{asgi.H("a", "1", "b", "", "c", "23"), "123"},
	}
	for _, tt := range tests {
		if got := JoinValues(tt.h); got != tt.want {
			t.Errorf("JoinValues(%v) = %q, want %q", tt.h, got, tt.want)
		}
	}
	h := asgi.H("a", "xy", "b", "z")
	if n := testing.AllocsPerRun(100, func() { _ = JoinValues(h) }); n != 1 {
		t.Fatalf("JoinValues allocates %v times, want 1", n)
	}
}
