package main

import (
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/asgo-dev/asgo/internal/testutil"
)

var metricsRE = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)

// metricsAddr returns the --metrics-bind address p logged.
func metricsAddr(t *testing.T, p *proc) string {
	t.Helper()
	var addr string
	testutil.WaitFor(t, 5*time.Second, "the metrics listener", func() bool {
		if m := metricsRE.FindStringSubmatch(p.logs()); m != nil {
			addr = m[1]
			return true
		}
		return false
	})
	return addr
}

// scrape reads /metrics with Prometheus's own text parser and flattens it to
// "name{label=value,...}" -> value (histograms as their _count and _sum).
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics = %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			key := name + labelString(m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[name+"_count"+labelString(m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+labelString(m.GetLabel())] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func labelString(labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.GetName() + "=" + l.GetValue()
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// waitMetrics scrapes until every metric of want has moved by exactly its value from
// base (a missing series counts as 0): the last counters move as the request's
// app returns, just after the client has its answer.
func waitMetrics(t *testing.T, addr string, base map[string]float64, want map[string]float64) map[string]float64 {
	t.Helper()
	var got map[string]float64
	var diff []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		got = scrape(t, addr)
		diff = diff[:0]
		for k, d := range want {
			if got[k]-base[k] != d {
				diff = append(diff, fmt.Sprintf("%s moved by %v, want %v", k, got[k]-base[k], d))
			}
		}
		if len(diff) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			sort.Strings(diff)
			t.Fatalf("metrics:\n%s", strings.Join(diff, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// curl runs curl with flags on each of urls (one connection) and returns the status
// codes, space-separated.
func curl(t *testing.T, flags []string, urls ...string) string {
	t.Helper()
	args := append([]string{"-sS", "--max-time", "10", "-w", "%{http_code} "}, flags...)
	for _, u := range urls {
		args = append(args, "-o", "/dev/null", u)
	}
	out, err := exec.Command("curl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v %s", urls, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestMetricsCountRequests makes a known set of requests with curl (HTTP/1.1 and
// h2c), a WebSocket, a 413, a 431 and a 503, and checks that the counters /metrics
// reports moved exactly by them.
func TestMetricsCountRequests(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is required (make deps installs it)")
	}
	p := startAsgo(t, "--metrics-bind", "127.0.0.1:0", "--limit-concurrency", "1",
		"--max-body-size", "1000", "--max-head-size", "4096")
	maddr := metricsAddr(t, p)
	base := scrape(t, maddr)

	if got := curl(t, nil, p.url("/"), p.url("/"), p.url("/")); got != "200 200 200" {
		t.Fatalf("HTTP/1.1 = %q", got)
	}
	// One connection per request: curl 7.88 fails a second request on a prior-knowledge
	// h2c connection ("Error in the HTTP2 framing layer"), with or without metrics.
	for range 2 {
		if got := curl(t, []string{"--http2-prior-knowledge"}, p.url("/")); got != "200" {
			t.Fatalf("h2c = %q", got)
		}
	}
	if got := curl(t, []string{"--data-binary", strings.Repeat("x", 2000)}, p.url("/echo")); got != "413" {
		t.Fatalf("large body = %q, want 413", got)
	}
	if got := curl(t, []string{"-H", "X-Big: " + strings.Repeat("b", 8000)}, p.url("/")); got != "431" {
		t.Fatalf("large head = %q, want 431", got)
	}
	req := map[string]float64{
		`asgo_http_requests_total{method=GET,protocol=http/1.1,status=2xx}`:  3,
		`asgo_http_requests_total{method=GET,protocol=h2,status=2xx}`:        2,
		`asgo_http_request_duration_seconds_count{protocol=http/1.1}`:        3,
		`asgo_http_request_duration_seconds_count{protocol=h2}`:              2,
		`asgo_http2_streams_total`:                                           2,
		`asgo_rejections_total{cause=body_too_large}`:                        1,
		`asgo_rejections_total{cause=header_too_large}`:                      1,
		`asgo_rejections_total{cause=concurrency_limit}`:                     0,
		`asgo_http_requests_in_flight`:                                       0,
		`asgo_http_requests_total{method=POST,protocol=http/1.1,status=4xx}`: 0,
	}
	waitMetrics(t, maddr, base, req)

	ws := wsDial(t, p.addr, "/ws")
	for _, m := range []string{"one", "two", "three"} {
		if err := ws.writeFrame(wsOpText, []byte(m)); err != nil {
			t.Fatal(err)
		}
		ws.expectMessage(t, wsOpText, []byte(m))
	}
	// The WebSocket holds the only slot of --limit-concurrency 1.
	if got := curl(t, nil, p.url("/")); got != "503" {
		t.Fatalf("GET / beside the WebSocket = %q, want 503", got)
	}
	req[`asgo_websocket_messages_total{direction=in}`] = 3
	req[`asgo_websocket_messages_total{direction=out}`] = 3
	req[`asgo_websocket_bytes_total{direction=in}`] = 11
	req[`asgo_websocket_bytes_total{direction=out}`] = 11
	req[`asgo_connections_open{protocol=websocket}`] = 1
	req[`asgo_rejections_total{cause=concurrency_limit}`] = 1
	waitMetrics(t, maddr, base, req)

	if err := ws.writeFrame(wsOpClose, []byte{0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	req[`asgo_connections_open{protocol=websocket}`] = 0
	req[`asgo_connections_open{protocol=http/1.1}`] = 0
	req[`asgo_connections_open{protocol=h2}`] = 0
	got := waitMetrics(t, maddr, base, req)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "asgo_event_loop_lag_seconds_count"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, got[name])
		}
	}
}

// TestMetricsHealthz checks /healthz: 200 while serving, 503 while the server drains
// (a WebSocket that does not answer the server's close holds the drain open), and
// that the metrics listener serves nothing but its two paths.
func TestMetricsHealthz(t *testing.T) {
	p := startAsgo(t, "--metrics-bind", "127.0.0.1:0", "--ws-close-timeout", "3s")
	maddr := metricsAddr(t, p)
	if code, body := get(t, "http://"+maddr+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz = %d %q, want 200", code, body)
	}
	if code, _ := get(t, "http://"+maddr+"/"); code != 404 {
		t.Fatalf("/ on the metrics listener = %d, want 404", code)
	}
	wsDial(t, p.addr, "/ws")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 2*time.Second, "/healthz 503", func() bool {
		code, body := get(t, "http://"+maddr+"/healthz")
		return code == 503 && body == "draining\n"
	})
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("asgo did not exit after the drain")
	}
}
