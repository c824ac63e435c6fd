package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/bench/internal/grid"

	"github.com/wcharczuk/go-chart/v2/drawing"
)

func sample() *Report {
	scs := []grid.Scenario{
		{ID: "h1-64", Family: grid.Hello, Title: "hello 64", Conns: 64},
		{ID: "h1-256", Family: grid.Hello, Title: "hello 256", Conns: 256},
		{ID: "idle-h1-10k", Family: grid.IdleH1, Title: "idle", Conns: 10000},
	}
	var ms []grid.Measurement
	for _, sc := range scs[:2] {
		for srv, rate := range map[string]float64{"nethttp": 50000, "asgo": 90000} {
			ms = append(ms, grid.Measurement{Scenario: sc.ID, Server: srv, Pinned: true, Conns: sc.Conns, Rate: rate,
				Requests: int64(rate * 3), Seconds: 3, ServerUser: 1, ServerSys: 1.8, LoadCPU: 2, P50ms: 1.5, P99ms: 9})
		}
	}
	ms = append(ms,
		grid.Measurement{Scenario: "idle-h1-10k", Server: "nethttp", Pinned: true, Conns: 10000, RSSKiB: 200000, RSSBaseKiB: 4000, PerConnKiB: 19.6, Alive: 10000},
		grid.Measurement{Scenario: "idle-h1-10k", Server: "asgo", Pinned: true, Conns: 10000, RSSKiB: 20000, RSSBaseKiB: 6000, PerConnKiB: 1.4, Alive: 10000},
		grid.Measurement{Scenario: "idle-h1-10k", Server: "asgo", Pinned: true, Conns: 10000, Error: "grid: asgo exited during the run"},
		grid.Measurement{Scenario: "idle-h1-10k", Server: "nbio", Pinned: true, Conns: 10000, RSSKiB: 20000, RSSBaseKiB: 6000, PerConnKiB: 1.3, Alive: 10000})
	return &Report{
		Env: grid.Env{Date: "2026-01-01T00:00:00Z", CPU: "test CPU", Cores: 2, GoVersion: "go1.26", Note: "taken on a busy machine",
			Versions: map[string]string{"github.com/panjf2000/gnet/v2": "v2.10.0"}},
		Scenarios: scs, Measurements: ms, Rows: grid.Summarize(ms, scs),
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	files, err := Write(dir, sample())
	if err != nil {
		t.Fatal(err)
	}
	wantCharts := []string{"throughput-vs-connections-hello.svg", "throughput-vs-connections-hello.png",
		"memory-per-connection-idle-h1-10k.svg", "memory-per-connection-idle-h1-10k.png"}
	if strings.Join(files.Charts, ",") != strings.Join(wantCharts, ",") {
		t.Fatalf("charts %v", files.Charts)
	}
	for _, c := range files.Charts {
		b, err := os.ReadFile(filepath.Join(dir, c))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(c, ".svg") && !bytes.Contains(b[:200], []byte("<svg")) {
			t.Errorf("%s is not SVG", c)
		}
		if strings.HasSuffix(c, ".png") && !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not PNG", c)
		}
	}
	var back Report
	js, _ := os.ReadFile(filepath.Join(dir, files.JSON))
	if err := json.Unmarshal(js, &back); err != nil || len(back.Rows) != 7 {
		t.Fatalf("JSON round trip: %v, %d rows", err, len(back.Rows))
	}
	page, _ := os.ReadFile(filepath.Join(dir, files.HTML))
	for _, want := range []string{"<table>", "<img src=\"throughput-vs-connections-hello.svg\"", "taken on a busy machine"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown(sample(), []string{"a.svg", "a.png"})
	for _, want := range []string{
		"> **Note:** taken on a busy machine",
		"| asgo | 90,000 | 90,000–90,000 | 1.80x | — |",
		"| h1-256 req/s: asgo >= 1.5x nethttp | 1.80x (90,000 vs nethttp 50,000; per server CPU-s 1.80x) | yes |",
		"| h1-64 | 90,000 req/s | 1.80x | — | 1.80x | nethttp 50,000 | server CPU, 64% of it in the kernel |",
		"| idle-h1-10k | 1.40 KiB/conn | 0.07x | — | — | nbio 1.30 | — |",
		"| idle-h1-10k: asgo KiB/conn <= nbio's | 1.40 vs 1.30 KiB (1.08x) | no |",
		"| nethttp | 10000 | 19.60 |",
		"| asgo | 10000 | 1.40 | 1.40–1.40 | 0.07x |",
		"- asgo: grid: asgo exited during the run",
		"![a](a.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, "a.png") {
		t.Error("markdown links the PNG twin")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "—", 999: "999", 1234567: "1,234,567", 1000: "1,000"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestSingleBarChart(t *testing.T) {
	scs := []grid.Scenario{{ID: "ws-100", Family: grid.WS, Conns: 100}}
	ms := []grid.Measurement{{Scenario: "ws-100", Server: "gorilla", Pinned: true, Rate: 5, Requests: 15, Seconds: 3, ServerUser: 1}}
	files, err := Write(t.TempDir(), &Report{Scenarios: scs, Measurements: ms, Rows: grid.Summarize(ms, scs)})
	if err != nil || len(files.Charts) != 2 {
		t.Fatalf("charts %v, %v", files.Charts, err)
	}
}

func TestNumeric(t *testing.T) {
	for c, want := range map[string]bool{"1,234": true, "1.80x": true, "—": true, "1.40–1.40": true, "asgo": false, "": false, "server CPU": false} {
		if got := numeric(c); got != want {
			t.Errorf("numeric(%q) = %v", c, got)
		}
	}
}

// No two servers of one scenario share a colour, so every chart can be read.
func TestServerColorsDistinctPerScenario(t *testing.T) {
	for _, sc := range grid.Scenarios {
		seen := map[drawing.Color]string{}
		for i, srv := range sc.Servers {
			if _, ok := serverColors[srv]; !ok {
				t.Errorf("%s: server %s has no colour", sc.ID, srv)
			}
			c := serverColor(srv, i)
			if other, dup := seen[c]; dup {
				t.Errorf("%s: %s and %s share a colour", sc.ID, other, srv)
			}
			seen[c] = srv
		}
	}
}

func TestMarkdownFairnessTable(t *testing.T) {
	scs := []grid.Scenario{{ID: "fairness-flood", Family: grid.Fairness, Title: "bystander under flood", Conns: 3}}
	var ms []grid.Measurement
	for srv, p99 := range map[string]float64{"nethttp": 40, "asgo": 2, "nbio": 10} {
		ms = append(ms, grid.Measurement{Scenario: "fairness-flood", Server: srv, Pinned: true, Conns: 3, Rate: 100000,
			Requests: 300000, Seconds: 3, ServerUser: 2, ServerSys: 1, LoadCPU: 2, P50ms: 0.1, P99ms: p99,
			Fairness: &grid.FairnessFigures{MaxMs: 50, AloneP50ms: 0.05, AloneP99ms: 0.5, AloneMaxMs: 1, PipelinedRate: 95000, EchoMiBps: 600}})
	}
	r := &Report{Scenarios: scs, Measurements: ms, Rows: grid.Summarize(ms, scs)}
	md := Markdown(r, nil)
	for _, want := range []string{
		"| server | bystander p99 under flood, ms (median) |",
		"| asgo | 2.00 | 2.00–2.00 | 0.05x | 0.10 | 50.00 | 0.05 | 0.50 | 1.00 | 4.00x | 95,000 | 600 |",
		"| fairness-flood | 2.00 ms p99 under flood | 0.05x | — | ",
		"| nbio 10.00 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if charts := charts(r); len(charts) != 1 || charts[0].name != "latency-fairness-flood" {
		t.Errorf("charts %v", charts)
	}
}
