package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/grid"
	"github.com/asgo-dev/asgo/bench/internal/report"
)

func TestParseRoutes(t *testing.T) {
	got, err := parseRoutes("wsgi=/py/, ws=/echo-ws")
	if err != nil || got[grid.WSGI] != "/py/" || got[grid.WS] != "/echo-ws" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"wsgi", "wsgi=py"} {
		if _, err := parseRoutes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSplit(t *testing.T) {
	if got := split(" a, ,b,"); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("split = %v", got)
	}
}

func TestCheckNeedsASGO(t *testing.T) {
	o := &options{pin: "on", servers: "nethttp,gorilla"}
	if err := o.check(); err != nil {
		t.Fatalf("peers only: %v", err)
	}
	o = &options{pin: "on", servers: "asgo"}
	if err := o.check(); err == nil {
		t.Fatal("asgo selected without a binary")
	}
	o = &options{pin: "sometimes"}
	if err := o.check(); err == nil {
		t.Fatal("bad -pin accepted")
	}
}

func TestEstimateCountsEveryJob(t *testing.T) {
	scs, _ := grid.Select(grid.Scenarios, []string{"h1-256"})
	jobs, _ := grid.Plan(grid.PlanConfig{Scenarios: scs, Servers: []string{"asgo", "uvicorn"}, Rounds: 2, Pinned: true})
	got := grid.Estimate(jobs, grid.Timing{Duration: 2 * time.Second, Warmup: time.Second})
	// Four measured intervals, two starts with warm-up, one of them a Python server.
	want := 4*2*time.Second + 2*(time.Second+600*time.Millisecond) + 2400*time.Millisecond
	if got != want {
		t.Fatalf("Estimate = %v, want %v", got, want)
	}
}

func TestRenderRebuildsReports(t *testing.T) {
	dir := t.TempDir()
	scs := []grid.Scenario{{ID: "h1-64", Family: grid.Hello, Conns: 64}}
	ms := []grid.Measurement{{Scenario: "h1-64", Server: "nethttp", Pinned: true, Rate: 10, Requests: 30, Seconds: 3, ServerUser: 1}}
	b, _ := json.Marshal(report.Report{Scenarios: scs, Measurements: ms})
	os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644)
	if err := render(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.md", "index.html", "throughput-h1-64.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("render did not write %s", f)
		}
	}
	if err := render(t.TempDir()); err == nil {
		t.Error("render of an empty directory succeeded")
	}
}
