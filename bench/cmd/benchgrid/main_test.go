package main

import (
	"slices"
	"testing"
	"time"

	"asgo/bench/internal/grid"
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
