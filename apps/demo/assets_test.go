package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestDemoStatic(t *testing.T) {
	app := New()
	ctx := context.Background()
	r, err := asgitest.Call(ctx, app, "GET", "/static/", nil)
	if err != nil || r.Status != 200 || !bytes.Contains(r.Body, []byte("<h1>Static files</h1>")) {
		t.Fatalf("index: %v %d %q", err, r.Status, r.Body)
	}
	if got := string(r.Headers.Get("cache-control")); got != "public, max-age=300" {
		t.Fatalf("cache-control %q", got)
	}
	r, err = asgitest.Call(ctx, app, "GET", "/static", nil)
	if err != nil || r.Status != 301 || string(r.Headers.Get("location")) != "/static/" {
		t.Fatalf("redirect: %v %d %v", err, r.Status, r.Headers)
	}
	plain, err := asgitest.Call(ctx, app, "GET", "/static/style.css", nil)
	if err != nil || plain.Status != 200 || !strings.HasPrefix(string(plain.Headers.Get("content-type")), "text/css") {
		t.Fatalf("css: %v %d %v", err, plain.Status, plain.Headers)
	}
	r, err = asgitest.Call(ctx, app, "GET", "/static/style.css", nil, "accept-encoding", "gzip, br")
	if err != nil || r.Status != 200 || string(r.Headers.Get("content-encoding")) != "gzip" {
		t.Fatalf("css gzip: %v %d %v", err, r.Status, r.Headers)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); !bytes.Equal(b, plain.Body) {
		t.Fatal("the .gz sibling does not decompress to style.css")
	}
	if r, _ := asgitest.Call(ctx, app, "GET", "/static/../demo.go", nil); r.Status != 404 {
		t.Fatalf("traversal: %d", r.Status)
	}
}

// TestDemoStaticEarlyHints: the static index page sends a 103 preloading its
// stylesheet first when the server advertises early hints, and not otherwise.
func TestDemoStaticEarlyHints(t *testing.T) {
	app := New()
	ctx := context.Background()
	for _, tc := range []struct {
		path, method string
		ext          bool
		want         int
	}{
		{"/static/", "GET", true, 1},
		{"/static/index.html", "GET", true, 1},
		{"/static/", "HEAD", true, 0},
		{"/static/", "GET", false, 0},
		{"/static/style.css", "GET", true, 0},
	} {
		scope := asgitest.NewHTTPScope(tc.method, tc.path)
		if tc.ext {
			scope.Extensions = map[string]any{asgi.ExtHTTPResponseEarlyHint: map[string]any{}}
		}
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		if err := app.ServeASGI(ctx, scope, asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{}), rec.Send); err != nil || rec.Err != nil {
			t.Fatalf("%s %s: %v %v", tc.method, tc.path, err, rec.Err)
		}
		hints := 0
		for _, m := range rec.Messages {
			if h, ok := m.(*asgi.HTTPResponseEarlyHint); ok {
				hints++
				if len(h.Links) != 1 || string(h.Links[0]) != StaticIndexHints[0] {
					t.Fatalf("links %q", h.Links)
				}
			}
		}
		if hints != tc.want || rec.Response().Status != 200 {
			t.Fatalf("%s %s ext=%v: %d hints, status %d", tc.method, tc.path, tc.ext, hints, rec.Response().Status)
		}
	}
}
