package scopedump

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestScopeDumpRoundTrip(t *testing.T) {
	scope := asgitest.NewHTTPScope("GET", "/scope?a=1&b=%C3%A9", "host", "example.com", "x-bin", "caf\xe9", "X-Multi", "1")
	scope.RootPath = "/api"
	scope.Path = "/api/scope"
	scope.RawPath = []byte("/api/sc%6Fpe")
	scope.State = asgi.NewState(map[string]any{"db": 1, "cache": "x"})
	scope.Server = nil
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := App.ServeASGI(context.Background(), scope, nil, rec.Send); err != nil {
		t.Fatal(err)
	}
	r := rec.Response()
	if r.Status != 200 || string(r.Headers.Get("content-type")) != "application/json" || !r.Complete {
		t.Fatalf("got %d %q", r.Status, r.Headers.Get("content-type"))
	}
	var got map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%v in %s", err, r.Body)
	}
	want := map[string]any{
		"type":         "http",
		"asgi":         map[string]any{"version": "3.0", "spec_version": "2.4"},
		"http_version": "1.1",
		"method":       "GET",
		"scheme":       "http",
		"path":         "/api/scope",
		"raw_path":     "/api/sc%6Fpe",
		"query_string": "a=1&b=%C3%A9",
		"root_path":    "/api",
		"headers": []any{
			[]any{"host", "example.com"},
			[]any{"x-bin", "caf\u00e9"}, // the byte 0xE9 as U+00E9 (latin-1)
			[]any{"X-Multi", "1"},
		},
		"client": []any{"127.0.0.1", float64(40000)},
		"server": nil,
		"state":  []any{"cache", "db"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestLatin1(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	s := Latin1(all)
	back := make([]byte, 0, 256)
	for _, r := range s {
		if r > 0xff {
			t.Fatalf("rune %U out of latin-1", r)
		}
		back = append(back, byte(r))
	}
	if string(back) != string(all) {
		t.Fatal("bytes do not round-trip")
	}
	if strings.Contains(Latin1([]byte("abc")), "=") {
		t.Fatal("looks like base64")
	}
}

func TestScopeDumpEmptyState(t *testing.T) {
	resp, err := asgitest.Call(context.Background(), App, "GET", "/scope", nil)
	if err != nil {
		t.Fatal(err)
	}
	var d Dump
	if err := json.Unmarshal(resp.Body, &d); err != nil {
		t.Fatal(err)
	}
	if d.State == nil || len(d.State) != 0 || d.Path != "/scope" || d.QueryString != "" {
		t.Fatalf("got %+v", d)
	}
	if !strings.Contains(string(resp.Body), `"state":[]`) {
		t.Fatalf("state not an empty list: %s", resp.Body)
	}
}

func TestScopeDumpInline(t *testing.T) {
	if !asgi.CanInline(App, asgitest.NewHTTPScope("GET", "/scope")) {
		t.Fatal("scope dump should be inlinable")
	}
}

// TestExtensions: extensions appear as JSON renders them (the tls extension's PEM
// strings and numbers); a value JSON cannot render shows its type instead of failing.
func TestExtensions(t *testing.T) {
	scope := asgitest.NewHTTPScope("GET", "/scope")
	scope.Extensions = map[string]any{
		asgi.ExtTLS: map[string]any{"server_cert": nil, "client_cert_chain": []any{"-----BEGIN CERTIFICATE-----\n..."},
			"tls_version": 0x0304, "cipher_suite": 0x1301},
		asgi.ExtHTTPResponseTrailers: map[string]any{},
		"x.func":                     func() {},
	}
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := App.ServeASGI(context.Background(), scope, nil, rec.Send); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(rec.Response().Body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"tls": map[string]any{"server_cert": nil, "client_cert_chain": []any{"-----BEGIN CERTIFICATE-----\n..."},
			"tls_version": float64(0x0304), "cipher_suite": float64(0x1301)},
		"http.response.trailers": map[string]any{},
		"x.func":                 "func()",
	}
	if !reflect.DeepEqual(got.Extensions, want) {
		t.Fatalf("extensions %v\nwant %v", got.Extensions, want)
	}
}
