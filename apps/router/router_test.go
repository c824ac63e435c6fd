package router

import (
	"context"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// named answers 200 with its name; inline is what its Inline reports.
type named struct {
	name   string
	inline bool
}

func (n named) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	if _, ok := scope.(*asgi.WebSocketScope); ok {
		return send(ctx, &asgi.WebSocketAccept{Subprotocol: n.name})
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte(n.name)})
}

func (n named) Inline(asgi.Scope) bool { return n.inline }

func testRouter() *Router {
	return New().
		Route([]string{"GET", "HEAD"}, "/", named{name: "root", inline: true}).
		Route([]string{"POST"}, "/echo", named{name: "echo"}).
		Route([]string{"PUT"}, "/echo", named{name: "echo-put"}).
		Route([]string{"GET"}, "/chat.html", named{name: "page", inline: true}).
		WebSocket("/chat", named{name: "chat"})
}

func TestRouterHTTP(t *testing.T) {
	tests := []struct {
		name         string
		method, path string
		root         string
		wantStatus   int
		wantBody     string
		wantAllow    string
	}{
		{"GET /", "GET", "/", "", 200, "root", ""},
		{"HEAD /", "HEAD", "/", "", 200, "root", ""},
		{"POST /echo", "POST", "/echo", "", 200, "echo", ""},
		{"PUT /echo", "PUT", "/echo", "", 200, "echo-put", ""},
		{"GET /echo is 405", "GET", "/echo", "", 405, "Method Not Allowed\n", "POST, PUT"},
		{"DELETE / is 405", "DELETE", "/", "", 405, "Method Not Allowed\n", "GET, HEAD"},
		{"unknown path", "GET", "/nope", "", 404, "Not Found\n", ""},
		{"exact match only", "POST", "/echo/", "", 404, "Not Found\n", ""},
		{"websocket-only path over http", "GET", "/chat", "", 404, "Not Found\n", ""},
		{"routes on the route path under a root path", "POST", "/api/echo", "/api", 200, "echo", ""},
		{"mount point without slash is /", "GET", "/api", "/api", 200, "root", ""},
		{"OPTIONS * lists every method", "OPTIONS", "*", "", 200, "", "GET, HEAD, POST, PUT, OPTIONS"},
		{"OPTIONS * under a root path", "OPTIONS", "/api*", "/api", 200, "", "GET, HEAD, POST, PUT, OPTIONS"},
		{"OPTIONS on a path is per route", "OPTIONS", "/", "", 405, "Method Not Allowed\n", "GET, HEAD"},
		{"GET * is not found", "GET", "*", "", 404, "Not Found\n", ""},
	}
	r := testRouter()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scope := asgitest.NewHTTPScope(tt.method, tt.path)
			scope.RootPath = tt.root
			rec := asgitest.NewRecorder(asgi.ScopeHTTP)
			if err := r.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send); err != nil {
				t.Fatal(err)
			}
			resp := rec.Response()
			if resp.Status != tt.wantStatus || string(resp.Body) != tt.wantBody || !resp.Complete {
				t.Fatalf("got %d %q", resp.Status, resp.Body)
			}
			if got := string(resp.Headers.Get("allow")); got != tt.wantAllow {
				t.Fatalf("allow %q, want %q", got, tt.wantAllow)
			}
		})
	}
}

func TestRouterWebSocket(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{{"/chat", asgi.TypeWebSocketAccept}, {"/", asgi.TypeWebSocketClose}, {"/nope", asgi.TypeWebSocketClose}}
	r := testRouter()
	for _, tt := range tests {
		rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
		if err := r.ServeASGI(context.Background(), &asgi.WebSocketScope{Path: tt.path}, asgitest.Script(nil), rec.Send); err != nil {
			t.Fatal(err)
		}
		if len(rec.Messages) != 1 || rec.Messages[0].Type() != tt.want {
			t.Errorf("%s: sent %s, want %s", tt.path, rec, tt.want)
		}
	}
}

func TestRouterInline(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"GET", "/", true},
		{"POST", "/echo", false},
		{"GET", "/echo", true}, // 405 from the router itself
		{"GET", "/nope", true}, // 404 from the router itself
		{"GET", "/chat.html", true},
	}
	r := testRouter()
	for _, tt := range tests {
		if got := r.Inline(asgitest.NewHTTPScope(tt.method, tt.path)); got != tt.want {
			t.Errorf("Inline(%s %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
	scope := asgitest.NewHTTPScope("GET", "/")
	if allocs := testing.AllocsPerRun(100, func() { r.Inline(scope) }); allocs != 0 {
		t.Errorf("Inline allocates %v times", allocs)
	}
}

func TestRouterPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func(r *Router)
	}{
		{"method twice", func(r *Router) { r.Route([]string{"GET"}, "/", named{}) }},
		{"lower-case method", func(r *Router) { r.Route([]string{"get"}, "/x", named{}) }},
		{"relative path", func(r *Router) { r.Route([]string{"GET"}, "x", named{}) }},
		{"nil app", func(r *Router) { r.Route([]string{"GET"}, "/y", nil) }},
		{"websocket twice", func(r *Router) { r.WebSocket("/chat", named{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tt.f(testRouter())
		})
	}
}

// lifeApp supports lifespan and counts its startups.
type lifeApp struct{ startups *int }

func (a *lifeApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		switch msg.(type) {
		case *asgi.LifespanStartup:
			*a.startups++
			if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
				return err
			}
		case *asgi.LifespanShutdown:
			return send(ctx, &asgi.LifespanShutdownComplete{})
		}
	}
}

func TestRouterLifespanEachAppOnce(t *testing.T) {
	var startups int
	app := &lifeApp{startups: &startups}
	r := New().Route([]string{"GET"}, "/a", app).Route([]string{"POST"}, "/a", app).WebSocket("/b", app).Route([]string{"GET"}, "/c", named{})
	receive := asgitest.Script(nil, &asgi.LifespanStartup{}, &asgi.LifespanShutdown{})
	rec := asgitest.NewRecorder(asgi.ScopeLifespan)
	if err := r.ServeASGI(context.Background(), &asgi.LifespanScope{State: map[string]any{}}, receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	if startups != 1 {
		t.Fatalf("%d startups of one app registered three times", startups)
	}
	if rec.String() != "lifespan.startup.complete lifespan.shutdown.complete " {
		t.Fatalf("sent %s", rec)
	}
}

// recycling is named with the asgi.Recycler promise.
type recycling struct{ named }

func (recycling) Recycles() bool { return true }

func TestRouterRecycles(t *testing.T) {
	tests := []struct {
		name string
		r    *Router
		want bool
	}{
		{"empty", New(), true},
		{"recycling and goroutine apps", New().
			Route([]string{"GET"}, "/", recycling{named{name: "root", inline: true}}).
			Route([]string{"POST"}, "/slow", asgi.AppFunc(named{name: "slow"}.ServeASGI)).
			WebSocket("/ws", named{name: "ws", inline: true}), true},
		{"an inline app without the promise", testRouter(), false},
	}
	for _, tt := range tests {
		if got := tt.r.Recycles(); got != tt.want {
			t.Errorf("%s: Recycles = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// bodyKeeper answers RecyclesBody with its field.
type bodyKeeper struct {
	named
	recycles bool
}

func (b bodyKeeper) RecyclesBody(asgi.Scope) bool { return b.recycles }

func TestRouterRecyclesBody(t *testing.T) {
	r := New().
		Route([]string{"POST"}, "/up", bodyKeeper{named{name: "up"}, true}).
		Route([]string{"POST"}, "/keep", bodyKeeper{named{name: "keep"}, false}).
		Route([]string{"PUT"}, "/plain", named{name: "plain"})
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/up", true}, {"POST", "/keep", false}, {"PUT", "/plain", false},
		{"GET", "/up", true},       // the router's own 405
		{"POST", "/nowhere", true}, // the router's own 404
	} {
		s := &asgi.HTTPScope{Method: tc.method, Path: tc.path}
		if got := r.RecyclesBody(s); got != tc.want {
			t.Errorf("%s %s: RecyclesBody = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
	if r.RecyclesBody(&asgi.WebSocketScope{Path: "/up"}) {
		t.Error("a WebSocket scope: RecyclesBody = true")
	}
}
