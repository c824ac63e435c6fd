package mount

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// seen answers with the name, root_path and path of the scope it got, as JSON.
type seen struct {
	name   string
	inline bool
}

type view struct {
	Name, Root, Path, Route string
}

func (s seen) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	var v view
	switch sc := scope.(type) {
	case *asgi.HTTPScope:
		v = view{s.name, sc.RootPath, sc.Path, RoutePath(sc.RootPath, sc.Path)}
	case *asgi.WebSocketScope:
		v = view{s.name, sc.RootPath, sc.Path, RoutePath(sc.RootPath, sc.Path)}
		return send(ctx, &asgi.WebSocketClose{Code: 4000, Reason: v.Name + " " + v.Root + " " + v.Path})
	}
	body, _ := json.Marshal(v)
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: body})
}

func (s seen) Inline(asgi.Scope) bool { return s.inline }

func TestRoutePath(t *testing.T) {
	tests := []struct{ root, path, want string }{
		{"", "/a/b", "/a/b"},
		{"/a", "/a/b", "/b"},
		{"/a", "/a", ""},
		{"/a", "/ab", "/ab"}, // not at a segment boundary: unchanged
		{"/a", "/b", "/b"},   // not a prefix: unchanged
		{"/a/b", "/a/b/c/d", "/c/d"},
	}
	for _, tt := range tests {
		if got := RoutePath(tt.root, tt.path); got != tt.want {
			t.Errorf("RoutePath(%q, %q) = %q, want %q", tt.root, tt.path, got, tt.want)
		}
	}
}

func demoMount() *Mount {
	return New().
		Add("/wsgi", seen{name: "wsgi"}).
		Add("/", seen{name: "root", inline: true}).
		Add("/wsgi/deep", seen{name: "deep"}).
		Add("/api/v1", seen{name: "api"})
}

func TestMountDispatch(t *testing.T) {
	tests := []struct {
		name       string
		root, path string
		want       view
	}{
		{"prefix with subpath", "", "/wsgi/env", view{"wsgi", "/wsgi", "/wsgi/env", "/env"}},
		{"bare prefix", "", "/wsgi", view{"wsgi", "/wsgi", "/wsgi", ""}},
		{"prefix with trailing slash", "", "/wsgi/", view{"wsgi", "/wsgi", "/wsgi/", "/"}},
		{"not at segment boundary", "", "/wsgix", view{"root", "", "/wsgix", "/wsgix"}},
		{"longest prefix wins", "", "/wsgi/deep/x", view{"deep", "/wsgi/deep", "/wsgi/deep/x", "/x"}},
		{"longest prefix needs a boundary too", "", "/wsgi/deeper", view{"wsgi", "/wsgi", "/wsgi/deeper", "/deeper"}},
		{"multi-segment prefix", "", "/api/v1/users", view{"api", "/api/v1", "/api/v1/users", "/users"}},
		{"fallback keeps root path", "", "/", view{"root", "", "/", "/"}},
		{"server root path is kept and extended", "/app", "/app/wsgi/env", view{"wsgi", "/app/wsgi", "/app/wsgi/env", "/env"}},
		{"server root path, fallback", "/app", "/app/echo", view{"root", "/app", "/app/echo", "/echo"}},
	}
	m := demoMount()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scope := asgitest.NewHTTPScope("GET", tt.path)
			scope.RootPath = tt.root
			rec := asgitest.NewRecorder(asgi.ScopeHTTP)
			if err := m.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send); err != nil {
				t.Fatal(err)
			}
			var got view
			if err := json.Unmarshal(rec.Response().Body, &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if scope.RootPath != tt.root {
				t.Fatal("the caller's scope was modified")
			}
		})
	}
}

func TestMountNoMatch(t *testing.T) {
	m := New().Add("/wsgi", seen{name: "wsgi"})
	for _, path := range []string{"/", "/wsgix", "/ws", "/other/wsgi"} {
		resp, err := asgitest.Call(context.Background(), m, "GET", path, nil)
		if err != nil || resp.Status != 404 {
			t.Errorf("%s: status %d err %v, want 404", path, resp.Status, err)
		}
	}
	var empty Mount
	if resp, _ := asgitest.Call(context.Background(), &empty, "GET", "/", nil); resp.Status != 404 {
		t.Errorf("zero Mount: %d", resp.Status)
	}
}

func TestMountWebSocket(t *testing.T) {
	m := New().Add("/chat", seen{name: "chat"})
	tests := []struct {
		path      string
		wantClose asgi.WebSocketClose
	}{
		{"/chat/room", asgi.WebSocketClose{Code: 4000, Reason: "chat /chat /chat/room"}},
		{"/chatx", asgi.WebSocketClose{Code: 1000}}, // refused: the server answers 403
	}
	for _, tt := range tests {
		rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
		scope := &asgi.WebSocketScope{Path: tt.path, RawPath: []byte(tt.path)}
		if err := m.ServeASGI(context.Background(), scope, asgitest.Script(nil), rec.Send); err != nil {
			t.Fatal(err)
		}
		if len(rec.Messages) != 1 || *rec.Messages[0].(*asgi.WebSocketClose) != tt.wantClose {
			t.Fatalf("%s: sent %s %+v", tt.path, rec, rec.Messages)
		}
	}
}

func TestMountInline(t *testing.T) {
	m := New().Add("/", seen{name: "root", inline: true}).Add("/slow", seen{name: "slow"}).Add("/fast", seen{name: "fast", inline: true})
	tests := []struct {
		path string
		want bool
	}{{"/", true}, {"/slowx", true}, {"/slow/x", false}, {"/fast/x", true}}
	for _, tt := range tests {
		if got := m.Inline(asgitest.NewHTTPScope("GET", tt.path)); got != tt.want {
			t.Errorf("Inline(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if !New().Add("/a", seen{}).Inline(asgitest.NewHTTPScope("GET", "/b")) {
		t.Error("a 404 never blocks")
	}
	if m.Inline(&asgi.LifespanScope{}) {
		t.Error("lifespan inlinable")
	}
	root := asgitest.NewHTTPScope("GET", "/")
	if allocs := testing.AllocsPerRun(100, func() { m.Inline(root) }); allocs != 0 {
		t.Errorf("Inline on the fallback allocates %v times", allocs)
	}
}

func TestMountAddPanics(t *testing.T) {
	for _, tt := range []struct {
		name   string
		prefix string
		app    asgi.App
	}{
		{"relative", "wsgi", seen{}},
		{"trailing slash", "/wsgi/", seen{}},
		{"empty", "", seen{}},
		{"twice", "/a", seen{}},
		{"nil app", "/b", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := New().Add("/a", seen{})
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			m.Add(tt.prefix, tt.app)
		})
	}
}

// recycling is seen with the asgi.Recycler promise.
type recycling struct{ seen }

func (recycling) Recycles() bool { return true }

func TestMountRecycles(t *testing.T) {
	if !New().Recycles() {
		t.Error("an empty mount keeps its 404s")
	}
	m := New().Add("/", recycling{seen{name: "root", inline: true}}).Add("/slow", asgi.AppFunc(seen{name: "slow"}.ServeASGI))
	if !m.Recycles() {
		t.Error("recycling and goroutine apps: Recycles = false")
	}
	if m.Add("/fast", seen{name: "fast", inline: true}).Recycles() {
		t.Error("an inline app without the promise: Recycles = true")
	}
}

// bodyKeeper recycles the bodies of the child path it was made for only.
type bodyKeeper struct {
	seen
	path string
}

func (b bodyKeeper) RecyclesBody(scope asgi.Scope) bool {
	s, ok := scope.(*asgi.HTTPScope)
	return ok && RoutePath(s.RootPath, s.Path) == b.path
}

func TestMountRecyclesBody(t *testing.T) {
	m := New().Add("/api", bodyKeeper{seen{name: "api"}, "/up"}).Add("/plain", seen{name: "plain"})
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/api/up", true}, // the app sees its child scope
		{"/api/other", false},
		{"/plain/up", false}, // no promise
		{"/nowhere", true},   // the mount's own 404
	} {
		if got := m.RecyclesBody(&asgi.HTTPScope{Method: "POST", Path: tc.path}); got != tc.want {
			t.Errorf("%s: RecyclesBody = %v, want %v", tc.path, got, tc.want)
		}
	}
}
