package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"

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
