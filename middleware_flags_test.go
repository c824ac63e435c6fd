package asgo

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/apps/demo"
	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestMiddlewareFlags(t *testing.T) {
	o, err := parseFlags("asgo serve", nil, "", []string{
		"--static", "/static=public", "--static", "/media=/srv/media", "--static-index", "index.html",
		"--static-cache-control", "public, max-age=60",
		"--allow-ip", "10.0.0.0/8, 192.168.0.0/16", "--allow-ip", "::1", "--deny-ip", "10.1.2.3",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantStatic := []static.Config{
		{Prefix: "/static", Dir: "public", Index: "index.html", CacheControl: "public, max-age=60"},
		{Prefix: "/media", Dir: "/srv/media", Index: "index.html", CacheControl: "public, max-age=60"},
	}
	if !reflect.DeepEqual(o.config.Static, wantStatic) {
		t.Fatalf("static %+v", o.config.Static)
	}
	wantIP := ipfilter.Config{Allow: []string{"10.0.0.0/8", "192.168.0.0/16", "::1"}, Deny: []string{"10.1.2.3"}}
	if !reflect.DeepEqual(o.config.IPFilter, wantIP) {
		t.Fatalf("ipfilter %+v", o.config.IPFilter)
	}
	for _, bad := range [][]string{{"--static", "public"}, {"--static", "static=public"}, {"--static", "/static="},
		{"--deny-ip", "10.0.0.0/40"}, {"--allow-ip", "example.com"}} {
		if _, err := parseFlags("asgo serve", nil, "", bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var help bytes.Buffer
	if _, err := parseFlags("asgo serve", nil, "", []string{"--help"}, &help); err != errHelp {
		t.Fatal(err)
	}
	for _, want := range []string{"Middleware:", "--static /PREFIX=DIR", "--static-index FILE", "--static-cache-control VALUE",
		"--allow-ip IP|CIDR", "--deny-ip IP|CIDR"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// TestMiddlewareKeepsRecycling: every middleware the flags add passes the wrapped app's
// asgi.Recycler answer on, so the built-in demo keeps its recycled inline streams behind
// all of them, and an app without the promise keeps its own scopes.
func TestMiddlewareKeepsRecycling(t *testing.T) {
	o, err := parseFlags("asgo serve", nil, "", []string{
		"--static", "/static=" + t.TempDir(), "--allow-ip", "127.0.0.1", "--compress", "gzip",
		"--forwarded-allow-ips", "127.0.0.1", "--proxy", "/up=http://127.0.0.1:9",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		app  asgi.App
		want bool
	}{
		{"demo", demo.New(), true},
		{"inline app without the promise", inlineOnly{}, false},
	} {
		wrapped, err := o.config.wrap(tt.app)
		if err != nil {
			t.Fatal(err)
		}
		if got := asgi.CanRecycle(wrapped); got != tt.want {
			t.Errorf("%s: CanRecycle behind the middleware = %v, want %v", tt.name, got, tt.want)
		}
		if got := asgi.CanRecycleBody(wrapped, asgitest.NewHTTPScope("POST", "/echo")); got != tt.want {
			t.Errorf("%s: CanRecycleBody(POST /echo) behind the middleware = %v, want %v", tt.name, got, tt.want)
		}
		if asgi.CanRecycleBody(wrapped, asgitest.NewHTTPScope("POST", "/up/x")) {
			t.Errorf("%s: the forwarding proxy promises its body chunks", tt.name)
		}
	}
}

// inlineOnly is an inline app that makes no asgi.Recycler promise.
type inlineOnly struct{ asgi.AppFunc }

func (inlineOnly) Inline(asgi.Scope) bool { return true }
