package asgo

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/internal/testutil"
)

func TestMetricsBindFlagAndEnvironment(t *testing.T) {
	o, err := parseFlags("asgo serve", nil, "", []string{"--metrics-bind", "127.0.0.1:9100"}, io.Discard)
	if err != nil || o.config.MetricsBind != "127.0.0.1:9100" {
		t.Fatalf("--metrics-bind: %q %v", o.config.MetricsBind, err)
	}
	t.Setenv("ASGO_METRICS_BIND", "127.0.0.1:9200")
	o, err = parseFlags("asgo serve", nil, "", nil, io.Discard)
	if err != nil || o.config.MetricsBind != "127.0.0.1:9200" {
		t.Fatalf("ASGO_METRICS_BIND: %q %v", o.config.MetricsBind, err)
	}
}

// TestServeMetricsBind: Serve with Config.MetricsBind counts the app's requests on its
// own listener; a bind that fails is Serve's error.
func TestServeMetricsBind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	// A WSGI-style app: its pool, which runs handlers on the server's calls, is listed
	// with its places.
	app := wsgi.New(wsgi.HandlerFunc(func(_ wsgi.Environ, start wsgi.StartResponse) (wsgi.Iterable, error) {
		_, err := start("204 No Content", nil, nil)
		return nil, err
	}), wsgi.Config{Workers: 7})
	defer app.Close()
	var cfg Config
	cfg.Server.Binds = []string{"127.0.0.1:0"}
	cfg.MetricsBind = maddr
	ready := make(chan string, 1)
	cfg.OnReady = func(addrs []net.Addr) { ready <- addrs[0].String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, app, cfg) }()
	addr := <-ready
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var body []byte
	// The request is counted as its app returns, just after the client has the answer.
	testutil.WaitFor(t, 2*time.Second, "the request in /metrics", func() bool {
		resp, err := http.Get("http://" + maddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), `asgo_http_requests_total{method="GET",protocol="http/1.1",status="2xx"} 1`)
	})
	// Pools of other tests of this process may be listed too: at least this one's 7.
	if m := regexp.MustCompile(`(?m)^asgo_wsgi_pool_workers (\d+)$`).FindStringSubmatch(string(body)); m == nil {
		t.Errorf("no asgo_wsgi_pool_workers in /metrics:\n%s", body)
	} else if n, _ := strconv.Atoi(m[1]); n < 7 {
		t.Errorf("asgo_wsgi_pool_workers %d, want at least the app's 7", n)
	}
	cfg.Server.Binds = []string{"127.0.0.1:0"}
	if err := Serve(context.Background(), app, cfg); err == nil || !strings.Contains(err.Error(), "metrics listener") {
		t.Errorf("Serve on a taken metrics address: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
