package asgo_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/proxy"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// sseApp streams two events at /events: the second only once release delivers.
type sseApp struct{ release chan struct{} }

func (a *sseApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return errors.New("unsupported scope")
	}
	if s.Path != "/events" && s.Path != "/up/events" {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "application/json")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte(`{"path":"` + s.Path + `","pad":"` + strings.Repeat("ab", 500) + `"}`)})
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/event-stream")}); err != nil {
		return err
	}
	if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("data: first\n\n"), MoreBody: true}); err != nil {
		return err
	}
	select {
	case <-a.release:
	case <-ctx.Done():
		return nil
	}
	if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte("data: last\n\n"), MoreBody: true}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{})
}

// TestMiddlewareEndToEnd serves an app with compression and a proxy route through
// asgo.Serve, and reads a streamed response with curl --compressed over HTTP/1.1 and
// HTTP/2: directly and through the proxy, the first event arrives before the last is
// produced, compressed.
func TestMiddlewareEndToEnd(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl is required (make deps installs it): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	upApp := &sseApp{release: make(chan struct{})}
	up := serve(t, ctx, upApp, asgo.Config{})
	app := &sseApp{release: make(chan struct{})}
	encs, _ := compress.ParseEncodings("zstd,br,gzip")
	route, err := proxy.ParseRoute("/up=http://" + up.addr)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy keeps idle keep-alive connections to the upstream; the upstream's drain
	// below closes them.
	tr := &http.Transport{DisableCompression: true}
	front := serve(t, ctx, app, asgo.Config{Compress: compress.Config{Encodings: encs}, Proxies: []proxy.Route{route},
		Proxy: proxy.Config{Transport: tr}})

	for _, version := range []string{"--http1.1", "--http2-prior-knowledge"} {
		for _, path := range []string{"/events", "/up/events"} {
			t.Run(version+path, func(t *testing.T) {
				release := app.release
				if strings.HasPrefix(path, "/up") {
					release = upApp.release
				}
				var stderr bytes.Buffer
				cmd := exec.Command(curl, "-sSNv", "--compressed", "--max-time", "10", version, "http://"+front.addr+path)
				cmd.Stderr = &stderr
				stdout, _ := cmd.StdoutPipe()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				br := bufio.NewReader(stdout)
				got := make(chan string, 1)
				go func() { line, _ := br.ReadString('\n'); got <- line }()
				select {
				case line := <-got:
					if line != "data: first\n" {
						t.Fatalf("first line %q", line)
					}
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					t.Fatalf("the first event did not arrive before the last was produced:\n%s", stderr.String())
				}
				release <- struct{}{}
				rest, _ := io.ReadAll(br)
				if err := cmd.Wait(); err != nil || string(rest) != "\ndata: last\n\n" {
					t.Fatalf("rest %q, %v\n%s", rest, err, stderr.String())
				}
				verbose := strings.ToLower(stderr.String())
				// Streams go out with stateless gzip (nothing held between messages).
				if !strings.Contains(verbose, "< content-encoding: gzip") || !strings.Contains(verbose, "< vary: accept-encoding") {
					t.Fatalf("not compressed:\n%s", stderr.String())
				}
			})
		}
	}
	// A whole JSON response, proxied and compressed with the preferred coding: curl
	// decodes it.
	out, err := exec.Command(curl, "-sS", "-v", "--compressed", "--max-time", "10", "http://"+front.addr+"/up/x.json").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `{"path":"/x.json"`) || !strings.Contains(strings.ToLower(string(out)), "< content-encoding: zstd") {
		t.Fatalf("proxied JSON: %v %s", err, out)
	}
	cancel()
	if err := front.wait(t); err != nil {
		t.Fatal(err)
	}
	if err := up.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestMiddlewareConfigErrors(t *testing.T) {
	app := &sseApp{}
	for _, cfg := range []asgo.Config{
		{Compress: compress.Config{Encodings: []string{"lz4"}}},
		{Proxies: []proxy.Route{{Prefix: "api", Upstreams: []string{"http://127.0.0.1:1"}}}},
		{Proxies: []proxy.Route{{Prefix: "/a", Upstreams: []string{"http://127.0.0.1:1"}}, {Prefix: "/a", Upstreams: []string{"http://127.0.0.1:2"}}}},
	} {
		err := asgo.Serve(context.Background(), app, cfg)
		if err == nil {
			t.Errorf("Serve accepted %+v", cfg)
		}
	}
	var out bytes.Buffer
	asgo.Command{App: app, Name: "srv", Stderr: &out}.Main([]string{"--help"})
	for _, want := range []string{"Middleware:", "--compress LIST", "--compress-min-size", "--proxy ROUTE", "--proxy-head-timeout"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
	var errOut bytes.Buffer
	if code := (asgo.Command{App: app, Name: "srv", Stderr: &errOut}).Main([]string{"--proxy", "/api"}); code != asgo.ExitUsage {
		t.Errorf("--proxy /api: exit %d", code)
	}
}
