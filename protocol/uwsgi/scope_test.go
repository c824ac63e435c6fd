package uwsgi

import (
	"encoding/json"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// headOf parses in up to EventHead and returns the scope built with d.
func headOf(t *testing.T, in []byte, d ScopeDefaults) *asgi.HTTPScope {
	t.Helper()
	var p Parser
	if _, ev, err := p.Parse(in); ev != EventHead || err != nil {
		t.Fatalf("Parse: %v %v", ev, err)
	}
	s := p.Request().HTTPScope(d)
	for i := range in {
		in[i] = 'Z' // the scope must not point into the input
	}
	return s
}

type scopeView struct {
	Version, Method, Scheme, Path, RawPath, Query, Root string
	Headers                                             string
	Client, Server                                      string
}

func view(s *asgi.HTTPScope) scopeView {
	addr := func(a *asgi.Addr) string {
		if a == nil {
			return "nil"
		}
		b, _ := json.Marshal(a)
		return string(b)
	}
	var h string
	for _, f := range s.Headers {
		h += string(f.Name) + ": " + string(f.Value) + "\n"
	}
	q := string(s.QueryString)
	if s.QueryString == nil {
		q = "<nil>"
	}
	return scopeView{s.HTTPVersion, s.Method, s.Scheme, s.Path, string(s.RawPath), q, s.RootPath, h, addr(s.Client), addr(s.Server)}
}

func TestHTTPScopeFromNginx(t *testing.T) {
	shared := map[string]any{asgi.ExtHTTPResponsePathsend: map[string]any{}}
	s := headOf(t, nginxPacket(), ScopeDefaults{Extensions: shared, State: map[string]any{"db": 1}})
	want := scopeView{
		Version: "1.1", Method: "POST", Scheme: "http", Path: "/app/echo me", RawPath: "/app/echo%20me",
		Query: "x=1&y=2", Root: "/app",
		Headers: "host: example.com\nuser-agent: curl/7.88.1\nx-forwarded-for: 203.0.113.9\ncookie: a=1; b=2\n" +
			"content-type: text/plain\ncontent-length: 11\n",
		Client: `{"host":"192.0.2.10","port":51234}`, Server: `{"host":"example.com","port":8080}`,
	}
	if got := view(s); got != want {
		t.Fatalf("scope\n got %+v\nwant %+v", got, want)
	}
	vars, ok := s.Extensions[asgi.ExtUWSGIVars].(map[string]string)
	if !ok || vars["DOCUMENT_ROOT"] != "/usr/share/nginx/html" || vars["SCRIPT_NAME"] != "/app" || len(vars) != len(nginxVars)/2 {
		t.Fatalf("vars extension %v", s.Extensions[asgi.ExtUWSGIVars])
	}
	if _, ok := s.Extensions[asgi.ExtHTTPResponsePathsend]; !ok || len(shared) != 1 {
		t.Fatal("shared extensions not copied, or the shared map was changed")
	}
	if s.State.Get("db") != 1 || s.ASGI != asgi.DefaultInfo {
		t.Fatal("state or asgi info")
	}
}

func TestVarsMapJoinsRepeatedHeaders(t *testing.T) {
	in := packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/", "HTTP_COOKIE", "a=1", "HTTP_ACCEPT", "x",
		"HTTP_COOKIE", "b=2", "HTTP_ACCEPT", "y", "DOCUMENT_ROOT", "/a", "DOCUMENT_ROOT", "/b")
	s := headOf(t, in, ScopeDefaults{})
	vars := s.Extensions[asgi.ExtUWSGIVars].(map[string]string)
	if vars["HTTP_COOKIE"] != "a=1; b=2" || vars["HTTP_ACCEPT"] != "x, y" || vars["DOCUMENT_ROOT"] != "/b" {
		t.Fatalf("vars %v", vars)
	}
	if v := view(s); v.Headers != "cookie: a=1\naccept: x\ncookie: b=2\naccept: y\n" {
		t.Fatalf("headers %q", v.Headers)
	}
}

func TestHTTPScopeMapping(t *testing.T) {
	base := []string{"REQUEST_METHOD", "GET"}
	tests := []struct {
		name  string
		d     ScopeDefaults
		vars  []string
		check func(v scopeView) bool
	}{
		{"PATH_INFO below SCRIPT_NAME (CGI)", ScopeDefaults{}, []string{"SCRIPT_NAME", "/app/", "PATH_INFO", "/x"},
			func(v scopeView) bool { return v.Path == "/app/x" && v.Root == "/app" && v.RawPath == "/app/x" }},
		{"PATH_INFO with SCRIPT_NAME (nginx)", ScopeDefaults{}, []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/app"},
			func(v scopeView) bool { return v.Path == "/app" && v.Root == "/app" }},
		{"prefix is not a segment", ScopeDefaults{}, []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/apple"},
			func(v scopeView) bool { return v.Path == "/app/apple" }},
		{"root path default", ScopeDefaults{RootPath: "/r"}, []string{"PATH_INFO", "/x"},
			func(v scopeView) bool { return v.Path == "/r/x" && v.Root == "/r" }},
		{"empty SCRIPT_NAME beats default", ScopeDefaults{RootPath: "/r"}, []string{"SCRIPT_NAME", "", "PATH_INFO", "/x"},
			func(v scopeView) bool { return v.Path == "/x" && v.Root == "" }},
		{"REQUEST_URI only", ScopeDefaults{}, []string{"REQUEST_URI", "/a%2Fb%zz?q=%20"},
			func(v scopeView) bool { return v.Path == "/a/b%zz" && v.RawPath == "/a%2Fb%zz" && v.Query == "q=%20" }},
		{"absolute-form REQUEST_URI", ScopeDefaults{}, []string{"REQUEST_URI", "http://h:1/p?q"},
			func(v scopeView) bool { return v.Path == "/p" && v.RawPath == "/p" && v.Query == "q" }},
		{"no query", ScopeDefaults{}, []string{"PATH_INFO", "/"},
			func(v scopeView) bool { return v.Query == "<nil>" && v.RawPath == "/" }},
		{"QUERY_STRING wins", ScopeDefaults{}, []string{"REQUEST_URI", "/?a", "QUERY_STRING", "b"},
			func(v scopeView) bool { return v.Query == "b" }},
		{"HTTPS on", ScopeDefaults{}, []string{"PATH_INFO", "/", "HTTPS", "on", "REQUEST_SCHEME", "http"},
			func(v scopeView) bool { return v.Scheme == "https" }},
		{"HTTPS 1", ScopeDefaults{}, []string{"PATH_INFO", "/", "HTTPS", "1"},
			func(v scopeView) bool { return v.Scheme == "https" }},
		{"HTTPS off", ScopeDefaults{}, []string{"PATH_INFO", "/", "HTTPS", "off", "REQUEST_SCHEME", "https"},
			func(v scopeView) bool { return v.Scheme == "http" }},
		{"UWSGI_SCHEME first", ScopeDefaults{}, []string{"PATH_INFO", "/", "HTTPS", "off", "UWSGI_SCHEME", "HTTPS"},
			func(v scopeView) bool { return v.Scheme == "https" }},
		{"wsgi.url_scheme", ScopeDefaults{}, []string{"PATH_INFO", "/", "wsgi.url_scheme", "https"},
			func(v scopeView) bool { return v.Scheme == "https" }},
		{"bad scheme ignored", ScopeDefaults{}, []string{"PATH_INFO", "/", "UWSGI_SCHEME", "gopher", "REQUEST_SCHEME", "https"},
			func(v scopeView) bool { return v.Scheme == "https" }},
		{"HTTP/1.0", ScopeDefaults{}, []string{"PATH_INFO", "/", "SERVER_PROTOCOL", "HTTP/1.0"},
			func(v scopeView) bool { return v.Version == "1.0" }},
		{"HTTP/2.0", ScopeDefaults{}, []string{"PATH_INFO", "/", "SERVER_PROTOCOL", "HTTP/2.0"},
			func(v scopeView) bool { return v.Version == "2" }},
		{"server fallback", ScopeDefaults{Server: &asgi.Addr{Host: "127.0.0.1", Port: 9}}, []string{"PATH_INFO", "/"},
			func(v scopeView) bool { return v.Server == `{"host":"127.0.0.1","port":9}` && v.Client == "nil" }},
		{"server default https port", ScopeDefaults{}, []string{"PATH_INFO", "/", "SERVER_NAME", "h", "HTTPS", "on"},
			func(v scopeView) bool { return v.Server == `{"host":"h","port":443}` }},
		{"bad REMOTE_PORT", ScopeDefaults{}, []string{"PATH_INFO", "/", "REMOTE_ADDR", "::1", "REMOTE_PORT", "x"},
			func(v scopeView) bool { return v.Client == `{"host":"::1","port":0}` }},
		{"framing headers left out", ScopeDefaults{}, []string{"PATH_INFO", "/", "HTTP_TRANSFER_ENCODING", "chunked",
			"HTTP_CONTENT_LENGTH", "3", "CONTENT_LENGTH", "", "HTTP_X_A_B", "1", "HTTP_", "odd"},
			func(v scopeView) bool { return v.Headers == "x-a-b: 1\n" }},
		{"custom method", ScopeDefaults{}, []string{"REQUEST_METHOD", "PROPFIND", "PATH_INFO", "/"},
			func(v scopeView) bool { return v.Method == "PROPFIND" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := packet(0, 0, "", append(append([]string{}, base...), tt.vars...)...)
			if v := view(headOf(t, in, tt.d)); !tt.check(v) {
				t.Fatalf("scope %+v", v)
			}
		})
	}
}
