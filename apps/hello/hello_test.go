package hello

import (
	"context"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestHello(t *testing.T) {
	tests := []struct {
		method     string
		wantStatus int
		wantBody   string
		wantAllow  string
	}{
		{"GET", 200, "Hello, World!", ""},
		{"HEAD", 200, "Hello, World!", ""}, // the server drops it
		{"POST", 405, "Method Not Allowed\n", "GET, HEAD"},
		{"DELETE", 405, "Method Not Allowed\n", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			resp, err := asgitest.Call(context.Background(), App, tt.method, "/anything?x=1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus || string(resp.Body) != tt.wantBody || !resp.Complete {
				t.Fatalf("got %d %q complete=%v", resp.Status, resp.Body, resp.Complete)
			}
			if got := string(resp.Headers.Get("allow")); got != tt.wantAllow {
				t.Fatalf("allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantStatus == 200 {
				if ct := string(resp.Headers.Get("content-type")); ct != "text/plain; charset=utf-8" {
					t.Fatalf("content-type = %q", ct)
				}
				if cl := string(resp.Headers.Get("content-length")); cl != "13" {
					t.Fatalf("content-length = %q", cl)
				}
			}
		})
	}
}

func TestHelloInline(t *testing.T) {
	if !asgi.CanInline(App, asgitest.NewHTTPScope("GET", "/")) {
		t.Fatal("HTTP scope not inlinable")
	}
	if asgi.CanInline(App, &asgi.LifespanScope{}) {
		t.Fatal("lifespan scope inlinable")
	}
}

func TestHelloRefusesOtherScopes(t *testing.T) {
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	if err := App.ServeASGI(context.Background(), &asgi.WebSocketScope{Path: "/"}, asgitest.Script(nil), rec.Send); err != nil {
		t.Fatal(err)
	}
	if len(rec.Messages) != 1 || rec.Messages[0].Type() != asgi.TypeWebSocketClose {
		t.Fatalf("sent %s", rec)
	}
	if err := App.ServeASGI(context.Background(), &asgi.LifespanScope{}, asgitest.Script(nil), rec.Send); err == nil {
		t.Fatal("lifespan accepted")
	}
}

func discard(context.Context, asgi.Message) error { return nil }

func TestHelloAllocs(t *testing.T) {
	ctx := context.Background()
	scope := asgitest.NewHTTPScope("GET", "/")
	allocs := testing.AllocsPerRun(1000, func() {
		if err := App.ServeASGI(ctx, scope, nil, discard); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("hello allocates %.1f times per request, want 0", allocs)
	}
}

func BenchmarkHello(b *testing.B) {
	ctx := context.Background()
	scope := asgitest.NewHTTPScope("GET", "/")
	b.ReportAllocs()
	for b.Loop() {
		_ = App.ServeASGI(ctx, scope, nil, discard)
	}
}

func TestGoroutineIsHelloOffTheLoop(t *testing.T) {
	if asgi.CanInline(Goroutine, asgitest.NewHTTPScope("GET", "/")) {
		t.Fatal("Goroutine asks for the event loop")
	}
	resp, err := asgitest.Call(context.Background(), Goroutine, "GET", "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != Body || !resp.Complete {
		t.Fatalf("got %d %q complete=%v", resp.Status, resp.Body, resp.Complete)
	}
}
