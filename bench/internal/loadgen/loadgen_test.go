package loadgen

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const wrkOut = `Running 1s test @ http://127.0.0.1:18400/
  1 threads and 8 connections
  13709 requests in 1.01s, 1.50MB read
WRKJSON {"requests":13709,"duration_us":1012416,"bytes":1576535,"errors_connect":1,"errors_read":2,"errors_write":0,"errors_status":3,"errors_timeout":0,"p50_us":4421,"p99_us":150190,"mean_us":23747.8,"max_us":159669}
`

func TestParseWrk(t *testing.T) {
	r, err := ParseWrk([]byte(wrkOut))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 13709 || r.Errors != 6 || r.Duration != 1012416*time.Microsecond {
		t.Fatalf("got %+v", r)
	}
	if r.P50 != 4421*time.Microsecond || r.P99 != 150190*time.Microsecond {
		t.Fatalf("latency %v %v", r.P50, r.P99)
	}
	if rate := r.Rate(); rate < 13540 || rate > 13541 {
		t.Fatalf("rate %v", rate)
	}
	if _, err := ParseWrk([]byte("unable to connect")); !errors.Is(err, ErrNoSummary) {
		t.Fatalf("missing summary: %v", err)
	}
	if _, err := ParseWrk([]byte("WRKJSON {bad")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

const h2Out = `finished in 3.00s, 12345.67 req/s, 1.23MB/s
requests: 37037 total, 37137 started, 37037 done, 37030 succeeded, 7 failed, 0 errored, 0 timeout
status codes: 37030 2xx, 0 3xx, 0 4xx, 2 5xx
traffic: 109.89KB (112528) total, 12.64KB (12946) headers (space savings 95.02%), 40.73KB (41704) data
                     min         max         mean         sd        +/- sd
time for request:      232us    124.79ms      5.66ms     13.08ms    96.17%
`

func TestParseH2load(t *testing.T) {
	r, err := ParseH2load([]byte(h2Out))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 37030 || r.Errors != 9 || r.Duration != 3*time.Second || r.Mean != 5660*time.Microsecond {
		t.Fatalf("got %+v", r)
	}
	ms := strings.Replace(h2Out, "finished in 3.00s", "finished in 850.5ms", 1)
	if r, _ := ParseH2load([]byte(ms)); r.Duration != 850500*time.Microsecond {
		t.Fatalf("ms duration %v", r.Duration)
	}
	if _, err := ParseH2load([]byte("connect error")); !errors.Is(err, ErrNoSummary) {
		t.Fatalf("missing summary: %v", err)
	}
}

func TestParseBenchload(t *testing.T) {
	r, err := ParseBenchload([]byte("EVENT start\nEVENT end\nBENCHJSON {\"requests\":5,\"duration_ns\":1000000000,\"alive\":4}\n"))
	if err != nil || r.Requests != 5 || r.Alive != 4 || r.Rate() != 5 {
		t.Fatalf("got %+v, %v", r, err)
	}
}

func TestArgs(t *testing.T) {
	w := Wrk{URL: "http://h/", Conns: 256, Duration: 2400 * time.Millisecond, Pipeline: 16, Script: "s.lua"}.Args()
	for _, want := range [][]string{{"-c", "256"}, {"-d", "2s"}, {"-t", "1"}, {"--timeout", "10s"}} {
		if i := slices.Index(w, want[0]); i < 0 || w[i+1] != want[1] {
			t.Errorf("wrk args %v lack %v", w, want)
		}
	}
	if !slices.Contains(w, "pipeline=16") || slices.Contains(w, "method=POST") {
		t.Errorf("wrk script args %v", w)
	}
	post := Wrk{URL: "http://h/echo", Conns: 4, Duration: time.Second, BodySize: 4096, Script: "s.lua"}.Args()
	if !slices.Contains(post, "method=POST") || !slices.Contains(post, "body=4096") {
		t.Errorf("post args %v", post)
	}
	h := H2load{URL: "http://h/", Conns: 10, Streams: 100, Duration: 3 * time.Second}.Args()
	if strings.Join(h, " ") != "h2load -c 10 -m 100 -t 1 -D 3 http://h/" {
		t.Errorf("h2load args %v", h)
	}
}

func TestExecReportsLinesAndFailure(t *testing.T) {
	var lines []string
	out, _, err := Exec(context.Background(), []string{"sh", "-c", "echo one; echo two"}, func(l string) { lines = append(lines, l) })
	if err != nil || string(out) != "one\ntwo\n" || !slices.Equal(lines, []string{"one", "two"}) {
		t.Fatalf("out %q lines %v err %v", out, lines, err)
	}
	if _, _, err := Exec(context.Background(), []string{"sh", "-c", "echo boom >&2; exit 3"}, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failure not reported with stderr: %v", err)
	}
}
