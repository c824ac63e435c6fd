package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/scopedump"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestDemoRoutes(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		body         []byte
		headers      []string
		wantStatus   int
		wantBody     string // "" to skip
		wantAllow    string
	}{
		{"hello", "GET", "/", nil, nil, 200, "Hello, World!", ""},
		{"hello head", "HEAD", "/", nil, nil, 200, "", ""},
		{"hello post is 405", "POST", "/", nil, nil, 405, "", "GET, HEAD"},
		{"echo", "POST", "/echo", []byte("ping"), []string{"content-length", "4"}, 200, "ping", ""},
		{"echo chunked", "POST", "/echo", []byte("ping"), nil, 200, "ping", ""},
		{"echo get is 405", "GET", "/echo", nil, nil, 405, "", "POST"},
		{"stream", "GET", "/stream?n=2", nil, nil, 200, "chunk 0\nchunk 1\n", ""},
		{"stream bad n", "GET", "/stream?n=x", nil, nil, 400, "", ""},
		{"stream head", "HEAD", "/stream?n=2&delay=60000", nil, nil, 200, "", ""},
		{"big head", "HEAD", "/big?bytes=1099511627776", nil, nil, 200, "", ""},
		{"scope head", "HEAD", "/scope", nil, nil, 200, "", ""},
		{"chat page head", "HEAD", "/chat.html", nil, nil, 200, "", ""},
		{"OPTIONS *", "OPTIONS", "*", nil, nil, 200, "", "GET, HEAD, POST, OPTIONS"},
		{"stream post is 405", "POST", "/stream", nil, nil, 405, "", "GET, HEAD"},
		{"big", "GET", "/big?bytes=3", nil, nil, 200, "xxx", ""},
		{"big bad", "GET", "/big?bytes=-3", nil, nil, 400, "", ""},
		{"scope", "GET", "/scope", nil, nil, 200, "", ""},
		{"scope post is 405", "POST", "/scope", nil, nil, 405, "", "GET, HEAD"},
		{"unknown", "GET", "/nope", nil, nil, 404, "Not Found\n", ""},
		{"websocket route over http", "GET", "/ws", nil, nil, 404, "", ""},
		{"chat page", "GET", "/chat.html", nil, nil, 200, "", ""},
		{"chat page post is 405", "POST", "/chat.html", nil, nil, 405, "", "GET, HEAD"},
		{"no wsgi without options", "GET", "/wsgi/x", nil, nil, 404, "", ""},
	}
	app := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := asgitest.Call(context.Background(), app, tt.method, tt.path, tt.body, tt.headers...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus || !resp.Complete {
				t.Fatalf("status %d complete %v, want %d", resp.Status, resp.Complete, tt.wantStatus)
			}
			if tt.wantBody != "" && string(resp.Body) != tt.wantBody {
				t.Fatalf("body %q, want %q", resp.Body, tt.wantBody)
			}
			if got := string(resp.Headers.Get("allow")); got != tt.wantAllow {
				t.Fatalf("allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

// TestDemoHeadMatchesGet: every demo route that serves GET serves HEAD (RFC 9110
// 9.3.2) with the GET's status and headers (Content-Length included where GET has
// it); streaming apps send no body bytes for HEAD (the server drops any).
func TestDemoHeadMatchesGet(t *testing.T) {
	app := New()
	for _, path := range []string{"/", "/stream?n=3", "/big?bytes=100000", "/scope", "/chat.html", "/wsgi/", "/wsgi/environ", "/nethttp/"} {
		t.Run(path, func(t *testing.T) {
			get, err := asgitest.Call(context.Background(), app, "GET", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			head, err := asgitest.Call(context.Background(), app, "HEAD", path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if get.Status != 200 || head.Status != get.Status || !head.Complete {
				t.Fatalf("GET %d, HEAD %d complete %v", get.Status, head.Status, head.Complete)
			}
			for _, name := range []string{"content-type", "content-length", "transfer-encoding"} {
				g, h := string(get.Headers.Get(name)), string(head.Headers.Get(name))
				if name == "content-length" && dumpsRequest(path) && (g == "") == (h == "") {
					continue // the dump names the method: "HEAD" is a byte longer than "GET"
				}
				if g != h {
					t.Fatalf("%s: GET %q, HEAD %q", name, g, h)
				}
			}
			if (path == "/stream?n=3" || strings.HasPrefix(path, "/big")) && len(head.Body) != 0 {
				t.Fatalf("HEAD sent %d body bytes", len(head.Body))
			}
		})
	}
}

func dumpsRequest(path string) bool { return path == "/scope" || path == "/wsgi/environ" }

func TestDemoEcho(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 512<<10) // 8 MiB; package echo tests 64 MiB
	for _, withLength := range []bool{true, false} {
		t.Run("content-length="+strconv.FormatBool(withLength), func(t *testing.T) {
			var headers []string
			if withLength {
				headers = []string{"content-length", strconv.Itoa(len(body))}
			}
			scope := asgitest.NewHTTPScope("POST", "/echo", headers...)
			rec := asgitest.NewRecorder(asgi.ScopeHTTP)
			receive := asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body(body, 64<<10)...)
			if err := New().ServeASGI(context.Background(), scope, receive, rec.Send); err != nil {
				t.Fatal(err)
			}
			resp := rec.Response()
			if !bytes.Equal(resp.Body, body) || string(resp.Headers.Get("content-length")) != strconv.Itoa(len(body)) {
				t.Fatalf("echoed %d bytes, content-length %q", len(resp.Body), resp.Headers.Get("content-length"))
			}
		})
	}
}

func TestDemoWebSocketRoutes(t *testing.T) {
	app := New()
	for _, tt := range []struct{ path, want string }{
		{"/ws", asgi.TypeWebSocketAccept},
		{"/chat", asgi.TypeWebSocketAccept},
		{"/nope", asgi.TypeWebSocketClose},
		{"/", asgi.TypeWebSocketClose},
	} {
		t.Run(tt.path, func(t *testing.T) {
			rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
			receive := asgitest.Script(&asgi.WebSocketDisconnect{Code: 1000}, &asgi.WebSocketConnect{})
			scope := &asgi.WebSocketScope{ASGI: asgi.DefaultInfo, Path: tt.path, RawPath: []byte(tt.path)}
			_ = app.ServeASGI(context.Background(), scope, receive, rec.Send)
			if len(rec.Messages) == 0 || rec.Messages[0].Type() != tt.want {
				t.Fatalf("sent %s, want %s first", rec, tt.want)
			}
		})
	}
}

func TestDemoInline(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true},
		{"HEAD", "/", true},
		{"GET", "/scope", true},
		{"GET", "/nope", true},
		{"POST", "/echo", true}, // run inline only with its whole body at hand
		{"GET", "/stream", false},
		{"GET", "/big", false},
	}
	app := New()
	for _, tt := range tests {
		if got := asgi.CanInline(app, asgitest.NewHTTPScope(tt.method, tt.path)); got != tt.want {
			t.Errorf("CanInline(%s %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	if !asgi.CanRecycle(app) {
		t.Error("the demo keeps something of its inline calls (asgi.CanRecycle)")
	}
	// Upload memory is reused for the echo, not for the WSGI-style app (no promise).
	if !asgi.CanRecycleBody(app, asgitest.NewHTTPScope("POST", "/echo")) {
		t.Error("the demo's echo keeps its body chunks (asgi.CanRecycleBody)")
	}
	if asgi.CanRecycleBody(app, asgitest.NewHTTPScope("POST", "/wsgi/")) {
		t.Error("the demo promises body chunks for the WSGI-style app")
	}
}

func TestDemoHelloAllocs(t *testing.T) {
	app := New()
	scope := asgitest.NewHTTPScope("GET", "/")
	discard := func(context.Context, asgi.Message) error { return nil }
	allocs := testing.AllocsPerRun(1000, func() {
		if !asgi.CanInline(app, scope) {
			t.Fatal("not inlinable")
		}
		if err := app.ServeASGI(context.Background(), scope, nil, discard); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("GET / through the demo allocates %v times, want 0", allocs)
	}
}

// probe answers with its scope as JSON (root_path and path are what the tests check).
var probe = scopedump.App

func TestDemoOptions(t *testing.T) {
	wsApp := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		return send(ctx, &asgi.WebSocketAccept{})
	})
	app := Build(Options{WebSocketEcho: wsApp, Chat: wsApp, ChatPage: probe, WSGI: probe, NetHTTP: probe})
	for _, tt := range []struct {
		path, wantRoot string
	}{{"/wsgi/env", "/wsgi"}, {"/nethttp/", "/nethttp"}, {"/chat.html", ""}} {
		resp, err := asgitest.Call(context.Background(), app, "GET", tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		var d scopedump.Dump
		if err := json.Unmarshal(resp.Body, &d); err != nil {
			t.Fatalf("%s: %v (%d %q)", tt.path, err, resp.Status, resp.Body)
		}
		if d.RootPath != tt.wantRoot || d.Path != tt.path {
			t.Fatalf("%s: root_path %q path %q, want %q %q", tt.path, d.RootPath, d.Path, tt.wantRoot, tt.path)
		}
	}
	for _, path := range []string{"/ws", "/chat"} {
		rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
		if err := app.ServeASGI(context.Background(), &asgi.WebSocketScope{Path: path}, asgitest.Script(nil), rec.Send); err != nil {
			t.Fatal(err)
		}
		if rec.String() != "websocket.accept " {
			t.Fatalf("%s: sent %s", path, rec)
		}
	}
}

func TestDemoLifespan(t *testing.T) {
	scope := &asgi.LifespanScope{State: map[string]any{}}
	receive := asgitest.Script(nil, &asgi.LifespanStartup{}, &asgi.LifespanShutdown{})
	rec := asgitest.NewRecorder(asgi.ScopeLifespan)
	if err := New().ServeASGI(context.Background(), scope, receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	if rec.String() != "lifespan.startup.complete lifespan.shutdown.complete " {
		t.Fatalf("sent %s", rec)
	}
	if _, ok := scope.State[StateStartedAt].(time.Time); !ok {
		t.Fatalf("state %v lacks %s", scope.State, StateStartedAt)
	}

	withLife := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if _, ok := s.(*asgi.LifespanScope); !ok {
			return errors.New("lifespan only")
		}
		if _, err := r(ctx); err != nil {
			return err
		}
		s.(*asgi.LifespanScope).State["pool"] = "ready"
		if err := send(ctx, &asgi.LifespanStartupFailed{Message: "pool exhausted"}); err != nil {
			return err
		}
		return nil
	})
	scope = &asgi.LifespanScope{State: map[string]any{}}
	receive = asgitest.Script(nil, &asgi.LifespanStartup{})
	rec = asgitest.NewRecorder(asgi.ScopeLifespan)
	if err := Build(Options{WSGI: withLife}).ServeASGI(context.Background(), scope, receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	failed, ok := rec.Messages[0].(*asgi.LifespanStartupFailed)
	if len(rec.Messages) != 1 || !ok || failed.Message != "mounts: /wsgi: pool exhausted" {
		t.Fatalf("sent %+v", rec.Messages)
	}
}

// TestDemoScopeShowsState checks the state key a server copies from the lifespan state
// into a request scope shows in GET /scope.
func TestDemoScopeShowsState(t *testing.T) {
	scope := asgitest.NewHTTPScope("GET", "/scope")
	scope.State = asgi.NewState(map[string]any{StateStartedAt: time.Now()})
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := New().ServeASGI(context.Background(), scope, nil, rec.Send); err != nil {
		t.Fatal(err)
	}
	var d scopedump.Dump
	if err := json.Unmarshal(rec.Response().Body, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.State) != 1 || d.State[0] != StateStartedAt {
		t.Fatalf("state %v", d.State)
	}
}

// BenchmarkDemoHello measures GET / through the mount and the router, as the server's
// inline fast path calls it (CanInline, then ServeASGI).
func BenchmarkDemoHello(b *testing.B) {
	app := New()
	scope := asgitest.NewHTTPScope("GET", "/")
	discard := func(context.Context, asgi.Message) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if asgi.CanInline(app, scope) {
			_ = app.ServeASGI(ctx, scope, nil, discard)
		}
	}
}
