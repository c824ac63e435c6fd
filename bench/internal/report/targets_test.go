package report

import (
	"testing"

	"github.com/asgo-dev/asgo/bench/internal/grid"
)

func TestTargets(t *testing.T) {
	scs := grid.Resolve([]grid.Scenario{
		{ID: "h1-256", Family: grid.Hello, Conns: 256},
		{ID: "wsgi-256", Family: grid.WSGI, Conns: 256},
		{ID: "ws-100", Family: grid.WS, Conns: 100},
		{ID: "idle-ws-max", Family: grid.IdleWS},
		{ID: "idle-h2-10k", Family: grid.IdleH2, Conns: 10000},
	}, 19000, 0)
	rate := func(sc, srv string, v float64) grid.Measurement {
		return grid.Measurement{Scenario: sc, Server: srv, Pinned: true, Rate: v, Requests: int64(v), Seconds: 1, ServerUser: 1}
	}
	idle := func(sc, srv string, kib float64) grid.Measurement {
		return grid.Measurement{Scenario: sc, Server: srv, Pinned: true, Conns: 19000, RSSKiB: 1, PerConnKiB: kib, Alive: 19000}
	}
	ms := []grid.Measurement{
		rate("h1-256", "asgo", 100), rate("h1-256", "nethttp", 80),
		rate("wsgi-256", "asgo", 70), rate("wsgi-256", "nethttp", 50),
		rate("wsgi-256", "asgo-async", 75), rate("h1-256", "asgo-metrics", 98),
		rate("ws-100", "asgo", 100), rate("ws-100", "gorilla", 90), rate("ws-100", "gws", 110),
		idle("idle-ws-19k", "asgo", 1.2), idle("idle-ws-19k", "nbio", 1.5),
		idle("idle-h2-10k", "asgo", 7.9),
	}
	got := Targets(&Report{Scenarios: scs, Rows: grid.Summarize(ms, scs)})
	want := []Target{
		{Goal: "h1-256 req/s: asgo >= 1.5x nethttp", Measured: "1.25x (100 vs nethttp 80; per server CPU-s 1.25x)"},
		{Goal: "ws-100 msg/s: asgo >= 1.0x the best of gorilla, gws", Measured: "0.91x (100 vs gws 110; per server CPU-s 0.91x)"},
		{Goal: "idle-ws-19k: asgo KiB/conn <= nbio's", Measured: "1.20 vs 1.50 KiB (0.80x)", Met: true},
		{Goal: "idle-h2-10k: asgo <= 8000 bytes/conn", Measured: "7.90 KiB", Met: false},
		{Goal: "wsgi-256 req/s: asgo >= 1.2x nethttp", Measured: "1.40x (70 vs nethttp 50; per server CPU-s 1.40x)", Met: true},
		{Goal: "wsgi-256: asgo >= 0.90x asgo-async", Measured: "0.933x (70 vs 75; per server CPU-s 0.933x)", Met: true},
		{Goal: "h1-256: asgo-metrics >= 0.97x asgo", Measured: "0.980x (98 vs 100; per server CPU-s 0.980x)", Met: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d targets, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}
