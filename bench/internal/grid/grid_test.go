package grid

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/fairload"
	"github.com/asgo-dev/asgo/bench/internal/loadgen"
	"github.com/asgo-dev/asgo/bench/internal/procstat"
)

func TestMaxIdleConns(t *testing.T) {
	for _, c := range []struct {
		limit   uint64
		ceiling int
		want    int
	}{{20000, 100000, 19000}, {1 << 20, 100000, 100000}, {500, 100000, 1}} {
		if got := MaxIdleConns(c.limit, c.ceiling); got != c.want {
			t.Errorf("MaxIdleConns(%d, %d) = %d, want %d", c.limit, c.ceiling, got, c.want)
		}
	}
}

func TestResolveNamesIdleScenariosAfterTheirCount(t *testing.T) {
	ids := func(scs []Scenario) string {
		var out []string
		for _, s := range scs {
			if s.Family == IdleH1 {
				out = append(out, s.ID)
			}
		}
		return strings.Join(out, ",")
	}
	if got := ids(Resolve(Scenarios, 19000, 0)); got != "idle-h1-10k,idle-h1-19k" {
		t.Errorf("limit 20000: %s", got)
	}
	if got := ids(Resolve(Scenarios, 100000, 0)); got != "idle-h1-10k,idle-h1-100k" {
		t.Errorf("large limit: %s", got)
	}
	if got := ids(Resolve(Scenarios, 3000, 0)); got != "idle-h1-3k" {
		t.Errorf("small limit collapses both counts: %s", got)
	}
	if got := ids(Resolve(Scenarios, 19000, 200)); got != "idle-h1-200" {
		t.Errorf("override: %s", got)
	}
}

func TestSelect(t *testing.T) {
	scs := Resolve(Scenarios, 19000, 0)
	got, err := Select(scs, []string{"h1-256", "idle-h2", "idle-ws-max"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "h1-256,idle-h2-10k,idle-h2-19k,idle-ws-19k" {
		t.Fatalf("selected %v", ids)
	}
	if _, err := Select(scs, []string{"h9-1"}); err == nil {
		t.Fatal("unknown scenario accepted")
	}
}

func TestPlanAlternatesServersEachRound(t *testing.T) {
	scs, _ := Select(Scenarios, []string{"h1-64", "ws-100"})
	jobs, err := Plan(PlanConfig{Scenarios: scs, Servers: []string{"asgo", "nethttp", "gorilla"}, Rounds: 2,
		Pinned: true, Unpinned: true, UnpinnedScenarios: []string{"h1-64"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "g1p1:h1-64/asgo g1p1:h1-64/nethttp g1p2:h1-64/asgo g1p2:h1-64/nethttp " +
		"g2p1:ws-100/asgo g2p1:ws-100/gorilla g2p2:ws-100/asgo g2p2:ws-100/gorilla " +
		"g3u1:h1-64/asgo g3u1:h1-64/nethttp g3u2:h1-64/asgo g3u2:h1-64/nethttp"
	if got := planString(jobs); got != want {
		t.Fatalf("plan\n got %s\nwant %s", got, want)
	}
	if _, err := Plan(PlanConfig{Scenarios: scs, Servers: []string{"iis"}, Pinned: true}); err == nil {
		t.Fatal("unknown server accepted")
	}
}

// planString renders jobs as "g<group><p|u><round>:<scenario>/<server>", space-separated.
func planString(jobs []Job) string {
	var out []string
	for _, j := range jobs {
		p := "p"
		if !j.Pinned {
			p = "u"
		}
		out = append(out, fmt.Sprintf("g%d%s%d:%s/%s", j.Group, p, j.Round, j.Scenario.ID, j.Server.Name))
	}
	return strings.Join(out, " ")
}

func TestPlanGroupsEveryScenarioBesideTheSameOne(t *testing.T) {
	for _, order := range [][]string{{"wsgi-256", "async-goroutine-256", "h1-256"}, {"h1-256", "async-goroutine-256", "wsgi-256"}} {
		var scs []Scenario
		for _, id := range order {
			sc, _ := Select(Scenarios, []string{id})
			scs = append(scs, sc...)
		}
		jobs, err := Plan(PlanConfig{Scenarios: scs, Servers: []string{"asgo"}, Rounds: 1, Pinned: true})
		if err != nil {
			t.Fatal(err)
		}
		want := "g1p1:h1-256/asgo g1p1:" + order[0] + "/asgo g1p1:" + order[1] + "/asgo"
		if order[0] == "h1-256" {
			want = "g1p1:h1-256/asgo g1p1:" + order[1] + "/asgo g1p1:" + order[2] + "/asgo"
		}
		if got := planString(jobs); got != want {
			t.Fatalf("selected %v: plan\n got %s\nwant %s", order, got, want)
		}
	}
}

func TestPlanInterleavesScenariosMeasuredBesideEachOther(t *testing.T) {
	for _, order := range [][]string{{"h1-256", "wsgi-256"}, {"wsgi-256", "h1-256"}} {
		var scs []Scenario
		for _, id := range order {
			sc, _ := Select(Scenarios, []string{id})
			scs = append(scs, sc...)
		}
		jobs, err := Plan(PlanConfig{Scenarios: scs, Servers: []string{"asgo", "nethttp"}, Rounds: 2,
			Pinned: true, Unpinned: true, UnpinnedScenarios: []string{"h1-256"}})
		if err != nil {
			t.Fatal(err)
		}
		want := "g1p1:h1-256/asgo g1p1:h1-256/nethttp g1p1:wsgi-256/asgo g1p1:wsgi-256/nethttp " +
			"g1p2:h1-256/asgo g1p2:h1-256/nethttp g1p2:wsgi-256/asgo g1p2:wsgi-256/nethttp " +
			"g2u1:h1-256/asgo g2u1:h1-256/nethttp g2u2:h1-256/asgo g2u2:h1-256/nethttp"
		if got := planString(jobs); got != want {
			t.Fatalf("selected %v: plan\n got %s\nwant %s", order, got, want)
		}
	}
}

func TestEveryScenarioServerSupportsItsFamily(t *testing.T) {
	for _, sc := range Scenarios {
		for _, n := range sc.Servers {
			s, ok := Servers[n]
			if !ok || !s.Supports(sc.Family) {
				t.Errorf("%s lists %s, which does not serve %s", sc.ID, n, sc.Family)
			}
		}
		if b := sc.Family.Baseline(); !contains(sc.Servers, b) {
			t.Errorf("%s lacks its baseline %s", sc.ID, b)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSummarizeRatiosAndFailures(t *testing.T) {
	scs := []Scenario{{ID: "h1-64", Family: Hello}}
	ms := []Measurement{
		{Scenario: "h1-64", Server: "nethttp", Pinned: true, Rate: 100, Requests: 300, Seconds: 3, ServerUser: 2, ServerSys: 1, LoadCPU: 1},
		{Scenario: "h1-64", Server: "nethttp", Pinned: true, Rate: 120, Requests: 360, Seconds: 3, ServerUser: 2, ServerSys: 1, LoadCPU: 1},
		{Scenario: "h1-64", Server: "nethttp", Pinned: true, Rate: 110, Requests: 330, Seconds: 3, ServerUser: 2, ServerSys: 1, LoadCPU: 1},
		{Scenario: "h1-64", Server: "asgo", Pinned: true, Rate: 220, Requests: 660, Seconds: 3, ServerUser: 1, ServerSys: 1.4, LoadCPU: 3},
		{Scenario: "h1-64", Server: "asgo", Pinned: true, Error: "boom"},
		{Scenario: "h1-64", Server: "gnetraw", Pinned: true, Rate: 440, Requests: 1320, Seconds: 3, ServerUser: 1, ServerSys: 2, LoadCPU: 1},
	}
	rows := Summarize(ms, scs)
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	n, a := rows[0], rows[1]
	if n.Value.Median != 110 || n.Value.Min != 100 || n.Value.Max != 120 || n.VsBaseline != 1 {
		t.Errorf("nethttp row %+v", n)
	}
	if a.Value.Median != 220 || a.VsBaseline != 2 || a.VsCeiling != 0.5 || a.Failed != 1 || a.Errors[0] != "boom" {
		t.Errorf("asgo row %+v", a)
	}
	if a.PerServerCPU.Median != 275 || math.Abs(a.CPUVsBaseline-2.5) > 1e-9 {
		t.Errorf("per CPU %v ratio %v", a.PerServerCPU.Median, a.CPUVsBaseline)
	}
	if a.LimitedBy != "load generator CPU" || n.LimitedBy != "server CPU, 33% of it in the kernel" {
		t.Errorf("limited by %q / %q", a.LimitedBy, n.LimitedBy)
	}
}

func TestValid(t *testing.T) {
	for _, c := range []struct {
		name string
		m    Measurement
		want bool
	}{
		{"ok", Measurement{Requests: 1000, Errors: 10}, true},
		{"too many errors", Measurement{Requests: 1000, Errors: 11}, false},
		{"nothing", Measurement{}, false},
		{"harness error", Measurement{Requests: 5, Error: "x"}, false},
		{"idle all open", Measurement{Conns: 100, RSSKiB: 10, Alive: 100}, true},
		{"idle closed by server", Measurement{Conns: 100, RSSKiB: 10, Alive: 50}, false},
	} {
		if got := c.m.Valid(); got != c.want {
			t.Errorf("%s: Valid = %v", c.name, got)
		}
	}
}

func TestLimiterUnpinned(t *testing.T) {
	if got := limiter(1.2, 0.7, 0.5, false); !strings.HasPrefix(got, "shared CPU") {
		t.Errorf("unpinned saturated: %q", got)
	}
	if got := limiter(0.3, 0.2, 0.5, true); !strings.HasPrefix(got, "neither side saturated") {
		t.Errorf("idle: %q", got)
	}
}

func TestCountLabel(t *testing.T) {
	for n, want := range map[int]string{950: "950", 10000: "10k", 19000: "19k", 1500: "1.5k"} {
		if got := countLabel(n); got != want {
			t.Errorf("countLabel(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPlanGroupsIdleStepsPerServer(t *testing.T) {
	scs, _ := Select(Resolve(Scenarios, 19000, 0), []string{"idle-h1"})
	jobs, err := Plan(PlanConfig{Scenarios: scs, Servers: []string{"asgo", "fasthttp"}, Rounds: 2, Pinned: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.IDs()+"/"+j.Server.Name)
	}
	want := "idle-h1-10k+19k/asgo idle-h1-10k/fasthttp idle-h1-10k+19k/asgo idle-h1-10k/fasthttp"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %s\nwant %s", strings.Join(got, " "), want)
	}
	if n := len(jobs[0].Steps); n != 2 || jobs[0].Steps[1].Conns != 19000 {
		t.Fatalf("steps %+v", jobs[0].Steps)
	}
}

func TestFairnessTakesServersWithHelloAndEcho(t *testing.T) {
	if !Servers["nethttp"].Supports(Fairness) || Servers["gnetraw"].Supports(Fairness) || Servers["gorilla"].Supports(Fairness) {
		t.Fatal("fairness needs both the hello and the echo route")
	}
}

func TestSummarizeFairnessRanksByBystanderP99(t *testing.T) {
	scs := []Scenario{{ID: "fairness-flood", Family: Fairness}}
	round := func(srv string, p99, alone float64) Measurement {
		var m Measurement
		m.Scenario, m.Server, m.Pinned = "fairness-flood", srv, true
		fill(&m, loadgen.Result{Requests: 300000, Duration: 3 * time.Second, P50: time.Millisecond,
			P99: time.Duration(p99 * float64(time.Millisecond)),
			Fairness: &loadgen.Fairness{Max: 20 * time.Millisecond, AloneP99: time.Duration(alone * float64(time.Millisecond)),
				Flood: fairload.FloodResult{Pipelined: 290000, Uploads: 3, EchoedBytes: 3 << 26}}},
			procstat.CPU{User: 2 * time.Second, System: time.Second}, procstat.CPU{User: time.Second})
		return m
	}
	rows := Summarize([]Measurement{round("nethttp", 40, 0.2), round("asgo", 2, 0.1), round("asgo", 4, 0.1), round("asgo", 3, 0.3)}, scs)
	n, a := rows[0], rows[1]
	if a.Value.Median != 3 || a.Value.Min != 2 || a.Value.Max != 4 || math.Abs(a.VsBaseline-3.0/40) > 1e-9 {
		t.Fatalf("asgo row %+v", a)
	}
	if f := a.Fairness; f == nil || f.AloneP99ms != 0.1 || f.MaxMs != 20 || f.PipelinedRate != 290000.0/3 || f.EchoMiBps != 64 {
		t.Fatalf("asgo figures %+v", a.Fairness)
	}
	if n.Value.Median != 40 || n.LimitedBy != "server CPU, 33% of it in the kernel" {
		t.Fatalf("nethttp row %+v", n)
	}
}
