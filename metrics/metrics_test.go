package metrics

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/asgo-dev/asgo/eventloop"
)

type fakeSource struct{ draining atomic.Bool }

func (f *fakeSource) Stats(st *eventloop.Stats) {
	*st = eventloop.Stats{Loops: 2, InFlight: 1, H2ResetsSent: 4}
	st.Requests[eventloop.ProtoUWSGI][2][5] = 7 // POST 5xx
	st.Duration[eventloop.ProtoUWSGI] = eventloop.Histogram{Counts: make([]uint64, len(eventloop.DurationBuckets)+1), Sum: 1.5}
	st.Duration[eventloop.ProtoUWSGI].Counts[0] = 3
	st.Duration[eventloop.ProtoUWSGI].Counts[len(eventloop.DurationBuckets)] = 4
	st.LoopLag = eventloop.Histogram{Counts: make([]uint64, len(eventloop.LagBuckets)+1)}
	st.Rejections[eventloop.RejectSpool] = 9
}

func (f *fakeSource) Draining() bool { return f.draining.Load() }

type fakePool struct{ n int }

func (p fakePool) Workers() int     { return 10 * p.n }
func (p fakePool) Busy() int        { return p.n }
func (p fakePool) Queued() int      { return 2 * p.n }
func (p fakePool) Backlog() int     { return 64 }
func (p fakePool) Rejected() uint64 { return uint64(p.n) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestListener scrapes a Listener over a fake source and pools and parses the result
// with Prometheus's text parser; /healthz follows the source's drain.
func TestListener(t *testing.T) {
	src := &fakeSource{}
	l, err := Listen(Config{Addr: "127.0.0.1:0", Source: src, Pools: func() []Pool { return []Pool{fakePool{1}, fakePool{2}} }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	base := "http://" + l.Addr().String()
	code, body := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	reqs := fams["asgo_http_requests_total"].GetMetric()
	if len(reqs) != 1 || reqs[0].GetCounter().GetValue() != 7 {
		t.Fatalf("asgo_http_requests_total = %v", reqs)
	}
	labels := map[string]string{}
	for _, lp := range reqs[0].GetLabel() {
		labels[lp.GetName()] = lp.GetValue()
	}
	if labels["protocol"] != "uwsgi" || labels["method"] != "POST" || labels["status"] != "5xx" {
		t.Errorf("labels = %v", labels)
	}
	for _, m := range fams["asgo_http_request_duration_seconds"].GetMetric() {
		h := m.GetHistogram()
		if m.GetLabel()[0].GetValue() != "uwsgi" {
			continue
		}
		if h.GetSampleCount() != 7 || h.GetSampleSum() != 1.5 || h.GetBucket()[0].GetCumulativeCount() != 3 {
			t.Errorf("uwsgi duration = %v", h)
		}
	}
	gauge := func(name string) float64 { return fams[name].GetMetric()[0].GetGauge().GetValue() }
	if gauge("asgo_wsgi_pool_workers") != 30 || gauge("asgo_wsgi_pool_busy") != 3 || gauge("asgo_wsgi_pool_queued") != 6 ||
		gauge("asgo_wsgi_pool_backlog") != 128 || gauge("asgo_http_requests_in_flight") != 1 || gauge("asgo_event_loops") != 2 {
		t.Errorf("gauges wrong:\n%s", body)
	}
	if fams["go_goroutines"] == nil || fams["process_open_fds"] == nil {
		t.Error("no Go runtime or process metrics")
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	src.draining.Store(true)
	if code, body := get(t, base+"/healthz"); code != 503 || body != "draining\n" {
		t.Errorf("/healthz while draining = %d %q", code, body)
	}
	if code, _ := get(t, base+"/other"); code != 404 {
		t.Errorf("/other = %d", code)
	}
}
