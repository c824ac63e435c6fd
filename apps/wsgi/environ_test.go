package wsgi

import (
	"context"
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
			if got[k] != v {
				t.Errorf("%s = %#v, want %#v", k, got[k], v)
			}
		}
		if _, ok := got["HTTP_X_FORWARDED_FOR"]; ok {
			t.Error("a header name with an underscore reached the environ")
		}
		for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
			if _, ok := got[k]; ok {
				t.Errorf("%s must not be set (CONTENT_TYPE/CONTENT_LENGTH carry it)", k)
			}
		}
		if _, ok := got[KeyInput].(io.Reader); !ok {
			t.Errorf("wsgi.input is %T, want an io.Reader", got[KeyInput])
		}
		if _, ok := got[KeyErrors].(io.Writer); !ok {
			t.Errorf("wsgi.errors is %T, want an io.Writer", got[KeyErrors])
		}
		if _, ok := got[KeyFileWrapper].(FileWrapperFunc); !ok {
			t.Errorf("wsgi.file_wrapper is %T, want a FileWrapperFunc", got[KeyFileWrapper])
		}
		if _, ok := got[KeyContext].(context.Context); !ok {
			t.Errorf("asgo.context is %T", got[KeyContext])
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
			e := buildEnviron(tt.scope(), nil, io.Discard, context.Background())
			if v, ok := e[tt.key]; !ok || v != tt.want {
				t.Fatalf("%s = %#v (present %v), want %q", tt.key, v, ok, tt.want)
			}
		})
	}
}

func TestEnvironAccessors(t *testing.T) {
	e := Environ{"A": "x", "B": 3}
	if e.Get("A") != "x" || e.Get("B") != "" || e.Get("C") != "" {
		t.Fatal("Get must return string values only")
	}
	if e.Input() != nil || e.Errors() != io.Discard || e.FileWrapper() == nil || e.Context() != context.Background() {
		t.Fatal("accessors must fall back to safe defaults")
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
	e := buildEnviron(scope, nil, io.Discard, context.Background())
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
	if e[KeyURLScheme] != scope.Scheme {
		t.Errorf("wsgi.url_scheme = %v, want the scope's %q", e[KeyURLScheme], scope.Scheme)
	}
	// A client changed by middleware wins over REMOTE_ADDR.
	scope.Client = &asgi.Addr{Host: "203.0.113.1", Port: 0}
	e = buildEnviron(scope, nil, io.Discard, context.Background())
	if e.Get("REMOTE_ADDR") != "203.0.113.1" || e.Get("REMOTE_PORT") != "0" {
		t.Errorf("REMOTE_ADDR %q REMOTE_PORT %q, want the scope's client", e.Get("REMOTE_ADDR"), e.Get("REMOTE_PORT"))
	}
}
