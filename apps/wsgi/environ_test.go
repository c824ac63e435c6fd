package wsgi

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

func TestEnvironKeys(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		var got Environ
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			got = e
			return Empty(), plain(start)
		}, Config{})
		scope := scopeFor(version, "POST", "/app/caf%C3%A9/x?a=1&b=%20",
			"host", "example.com:8080", "content-type", "text/plain", "content-length", "3",
			"accept", "text/html", "accept", "application/json",
			"cookie", "a=1", "cookie", "b=2", "x-custom-thing", "v", "x_forwarded_for", "spoof")
		scope.Path = "/app/café/x"
		scope.RootPath = "/app"
		scope.Scheme = "https"
		if _, err := serve(t, app, scope, []byte("abc")); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"REQUEST_METHOD":      "POST",
			"SCRIPT_NAME":         "/app",
			"PATH_INFO":           "/café/x",
			"QUERY_STRING":        "a=1&b=%20",
			"CONTENT_TYPE":        "text/plain",
			"CONTENT_LENGTH":      "3",
			"SERVER_NAME":         "127.0.0.1",
			"SERVER_PORT":         "8000",
			"SERVER_PROTOCOL":     "HTTP/" + version,
			"REMOTE_ADDR":         "127.0.0.1",
			"REMOTE_PORT":         "40000",
			"HTTP_HOST":           "example.com:8080",
			"HTTP_ACCEPT":         "text/html, application/json",
			"HTTP_COOKIE":         "a=1; b=2",
			"HTTP_X_CUSTOM_THING": "v",
			KeyVersion:            [2]int{1, 0},
			KeyURLScheme:          "https",
			KeyMultithread:        true,
			KeyMultiprocess:       false,
			KeyRunOnce:            false,
		}
		for k, v := range want {
			if g, _ := got.Lookup(k); g != v {
				t.Errorf("%s = %#v, want %#v", k, g, v)
			}
		}
		if _, ok := got.Lookup("HTTP_X_FORWARDED_FOR"); ok {
			t.Error("a header name with an underscore reached the environ")
		}
		for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
			if _, ok := got.Lookup(k); ok {
				t.Errorf("%s must not be set (CONTENT_TYPE/CONTENT_LENGTH carry it)", k)
			}
		}
		if v, _ := got.Lookup(KeyInput); v.(io.Reader) == nil {
			t.Errorf("wsgi.input is %T, want an io.Reader", v)
		}
		if v, _ := got.Lookup(KeyErrors); v.(io.Writer) == nil {
			t.Errorf("wsgi.errors is %T, want an io.Writer", v)
		}
		if v, _ := got.Lookup(KeyFileWrapper); v.(FileWrapperFunc) == nil {
			t.Errorf("wsgi.file_wrapper is %T, want a FileWrapperFunc", v)
		}
		if v, _ := got.Lookup(KeyContext); v.(context.Context) == nil {
			t.Errorf("asgo.context is %T", v)
		}
	})
}

func TestEnvironDefaults(t *testing.T) {
	tests := []struct {
		name      string
		scope     func() *asgi.HTTPScope
		key, want string
	}{
		{"no body headers: empty CONTENT_TYPE", func() *asgi.HTTPScope { return scopeFor("1.1", "GET", "/") }, "CONTENT_TYPE", ""},
		{"no body headers: empty CONTENT_LENGTH", func() *asgi.HTTPScope { return scopeFor("1.1", "GET", "/") }, "CONTENT_LENGTH", ""},
		{"no root path: empty SCRIPT_NAME", func() *asgi.HTTPScope { return scopeFor("1.1", "GET", "/x") }, "SCRIPT_NAME", ""},
		{"root path only: empty PATH_INFO", func() *asgi.HTTPScope {
			s := scopeFor("1.1", "GET", "/app")
			s.RootPath = "/app"
			return s
		}, "PATH_INFO", ""},
		{"root path is not a segment prefix", func() *asgi.HTTPScope {
			s := scopeFor("1.1", "GET", "/application")
			s.RootPath = "/app"
			return s
		}, "PATH_INFO", "/application"},
		{"unix socket: SERVER_NAME from Host", func() *asgi.HTTPScope {
			s := scopeFor("1.1", "GET", "/", "host", "example.org:81")
			s.Server = nil
			return s
		}, "SERVER_NAME", "example.org"},
		{"unix socket: SERVER_PORT from Host", func() *asgi.HTTPScope {
			s := scopeFor("1.1", "GET", "/", "host", "example.org:81")
			s.Server = nil
			return s
		}, "SERVER_PORT", "81"},
		{"unix socket: default https port", func() *asgi.HTTPScope {
			s := scopeFor("1.1", "GET", "/", "host", "[::1]")
			s.Server, s.Scheme = nil, "https"
			return s
		}, "SERVER_PORT", "443"},
		{"no client: empty REMOTE_ADDR", func() *asgi.HTTPScope {
			s := scopeFor("1.1", "GET", "/")
			s.Client = nil
			return s
		}, "REMOTE_ADDR", ""},
		{"upper-case header name", func() *asgi.HTTPScope { return scopeFor("1.1", "GET", "/", "X-Upper", "1") }, "HTTP_X_UPPER", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, built := range []bool{false, true} {
				e := newEnviron(new(environ), tt.scope(), nil, io.Discard, context.Background())
				if built {
					e.Map()
				}
				if v, ok := e.Lookup(tt.key); !ok || v != tt.want || e.Get(tt.key) != tt.want {
					t.Fatalf("built %v: %s = %#v (present %v), want %q", built, tt.key, v, ok, tt.want)
				}
			}
		})
	}
}

func TestEnvironAccessors(t *testing.T) {
	for _, e := range []Environ{NewEnviron(map[string]any{"A": "x", "B": 3}), {}} {
		if e.Get("B") != "" || e.Get("C") != "" {
			t.Fatal("Get must return string values only")
		}
		if e.Input() != nil || e.Errors() != io.Discard || e.FileWrapper() == nil || e.Context() != context.Background() {
			t.Fatal("accessors must fall back to safe defaults")
		}
	}
	if e := NewEnviron(map[string]any{"A": "x"}); e.Get("A") != "x" || e.Len() != 1 {
		t.Fatal("NewEnviron must hold the map")
	}
}

// lazyScopes are requests whose lazy and built environs must agree key for key.
func lazyScopes() map[string]*asgi.HTTPScope {
	full := scopeFor("1.1", "POST", "/app/x?a=1",
		"Host", "example.com:8080", "content-type", "text/plain", "Content-Length", "3",
		"accept", "", "accept", "text/html", "accept", "application/json", "x-empty", "",
		"cookie", "a=1", "cookie", "b=2", "x-custom-thing", "v", "x_forwarded_for", "spoof", "X-Odd.Name~", "1")
	full.RootPath = "/app/"
	unix := scopeFor("2", "PURGE", "/", "host", "[::1]:81", "x-a", "1", "x-a", "")
	unix.Server, unix.Client, unix.Scheme = nil, nil, "https"
	bare := scopeFor("1.0", "GET", "/")
	bare.Server = nil
	return map[string]*asgi.HTTPScope{"full": full, "unix socket": unix, "no headers": bare}
}

func TestEnvironLazyMatchesBuilt(t *testing.T) {
	for name, scope := range lazyScopes() {
		t.Run(name, func(t *testing.T) {
			in := &Input{}
			ctx := context.Background()
			built := newEnviron(new(environ), scope, in, io.Discard, ctx).Map()
			lazy := newEnviron(new(environ), scope, in, io.Discard, ctx)
			for k, want := range built {
				if s, _ := want.(string); lazy.Get(k) != s {
					t.Errorf("Get(%s) = %q, want %q", k, lazy.Get(k), s)
				}
				got, ok := lazy.Lookup(k)
				if k == KeyFileWrapper { // a func: compare its type only
					got, want = fmt.Sprintf("%T", got), fmt.Sprintf("%T", want)
				}
				if !ok || got != want {
					t.Errorf("%s: lazy %#v (present %v), built %#v", k, got, ok, want)
				}
			}
			for _, k := range []string{"HTTP_X_FORWARDED_FOR", "HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH",
				"HTTP_", "HTTP_NOPE", "http_host", "NOPE", ""} {
				if _, ok := built[k]; ok {
					continue
				}
				if v, ok := lazy.Lookup(k); ok {
					t.Errorf("%s is absent from the built environ, lazy has %#v", k, v)
				}
			}
			if lazy.Input() != in || lazy.Context() != ctx || lazy.Errors() != io.Discard {
				t.Error("typed accessors of the lazy environ")
			}
		})
	}
}

func TestEnvironMutationAndIteration(t *testing.T) {
	scope := scopeFor("1.1", "GET", "/x?q=1", "host", "h", "x-a", "1")
	e := newEnviron(new(environ), scope, nil, io.Discard, context.Background())
	e.Set("PATH_INFO", "/rewritten")
	e.Set("myapp.user", 42)
	e.Delete("HTTP_X_A")
	if e.Get("PATH_INFO") != "/rewritten" || e.Get("QUERY_STRING") != "q=1" {
		t.Fatal("Set must change one key and keep the others")
	}
	if v, _ := e.Lookup("myapp.user"); v != 42 {
		t.Fatalf("myapp.user = %#v", v)
	}
	if _, ok := e.Lookup("HTTP_X_A"); ok {
		t.Fatal("Delete left the key")
	}
	seen := map[string]any{}
	for k, v := range e.All() {
		seen[k] = v
	}
	if len(seen) != e.Len() || seen["PATH_INFO"] != "/rewritten" || seen["HTTP_HOST"] != "h" {
		t.Fatalf("All yielded %v", seen)
	}
	e.Map()["REQUEST_METHOD"] = "PUT"
	if e.Get("REQUEST_METHOD") != "PUT" {
		t.Fatal("a change through Map must reach the environ")
	}
	for range e.All() {
		break // stopping early is allowed
	}
	var zero Environ
	zero.Delete("x")
	if zero.Len() != 0 || zero.Map() != nil {
		t.Fatal("zero Environ must be empty")
	}
	for range zero.All() {
		t.Fatal("zero Environ yielded a key")
	}
}

// The keys a hello handler reads cost no allocation, and neither does handing the
// handler its environ.
func TestEnvironLazyGetAllocs(t *testing.T) {
	scope := scopeFor("1.1", "GET", "/x", "host", "example.com", "user-agent", "bench", "accept", "*/*")
	env := new(environ)
	allocs := testing.AllocsPerRun(100, func() {
		e := newEnviron(env, scope, nil, io.Discard, context.Background())
		for _, k := range []string{"REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "SERVER_PROTOCOL", "SERVER_NAME",
			"SERVER_PORT", "REMOTE_ADDR", "CONTENT_TYPE", "CONTENT_LENGTH", KeyURLScheme} {
			_ = e.Get(k)
		}
		_, _ = e.Input(), e.Context()
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations, want 0", allocs)
	}
}

type ctxKey struct{}

func TestRequestContext(t *testing.T) {
	parent, stop := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	defer stop()
	for _, doneFirst := range []bool{false, true} {
		c := &requestContext{parent: parent}
		var done <-chan struct{}
		if doneFirst {
			done = c.Done()
		}
		stop() // the parent's cancellation does not reach it: the waiter relays it
		if c.Err() != nil || c.Value(ctxKey{}) != "v" {
			t.Fatal("requestContext must carry the parent's values, not its cancellation")
		}
		if _, ok := c.Deadline(); ok {
			t.Fatal("requestContext has no deadline")
		}
		c.cancel()
		c.cancel()
		if !doneFirst {
			done = c.Done()
		}
		select {
		case <-done:
		default:
			t.Fatal("Done not closed after cancel")
		}
		if c.Err() != context.Canceled {
			t.Fatalf("Err = %v", c.Err())
		}
		child, cancel := context.WithCancel(c)
		<-child.Done()
		cancel()
	}
}

func TestEnvironFromUWSGIVars(t *testing.T) {
	scope := scopeFor("1.1", "GET", "/app/x?q=1", "host", "example.com")
	scope.RootPath, scope.Path = "/app", "/app/x"
	scope.Client = &asgi.Addr{Host: "192.0.2.10", Port: 5000}
	vars := map[string]string{
		"SCRIPT_NAME": "/app", "PATH_INFO": "/app/x", "REMOTE_ADDR": "192.0.2.10", "REMOTE_PORT": "5000",
		"HTTPS": "on", "DOCUMENT_ROOT": "/srv", "REQUEST_URI": "/app/x?q=1", "SERVER_NAME": "example.com",
		"SERVER_PORT": "443", "HTTP_HOST": "spoofed", "wsgi.url_scheme": "gopher", "MY_PARAM": "v",
	}
	scope.Extensions = map[string]any{asgi.ExtUWSGIVars: vars}
	e := newEnviron(new(environ), scope, nil, io.Discard, context.Background())
	want := map[string]string{
		"SCRIPT_NAME": "/app", "PATH_INFO": "/x", "REMOTE_ADDR": "192.0.2.10", "REMOTE_PORT": "5000",
		"HTTPS": "on", "DOCUMENT_ROOT": "/srv", "REQUEST_URI": "/app/x?q=1", "SERVER_NAME": "example.com",
		"SERVER_PORT": "443", "HTTP_HOST": "example.com", "MY_PARAM": "v",
	}
	for k, v := range want {
		if got := e.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if v, _ := e.Lookup(KeyURLScheme); v != scope.Scheme {
		t.Errorf("wsgi.url_scheme = %v, want the scope's %q", v, scope.Scheme)
	}
	// A client changed by middleware wins over REMOTE_ADDR.
	scope.Client = &asgi.Addr{Host: "203.0.113.1", Port: 0}
	e = newEnviron(new(environ), scope, nil, io.Discard, context.Background())
	if e.Get("REMOTE_ADDR") != "203.0.113.1" || e.Get("REMOTE_PORT") != "0" {
		t.Errorf("REMOTE_ADDR %q REMOTE_PORT %q, want the scope's client", e.Get("REMOTE_ADDR"), e.Get("REMOTE_PORT"))
	}
}
