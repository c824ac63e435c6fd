package report

import (
	"fmt"
	"strings"

	"github.com/asgo-dev/asgo/bench/internal/grid"
)

// Target is one goal of the project checked against a run.
type Target struct {
	Goal, Measured string
	Met            bool
}

// goalKiB is the HTTP/2 idle-memory goal: 8 KB per connection, in KiB.
const goalKiB = 8000.0 / 1024

// Targets checks the project's goals against the pinned rows of a run, in this order:
// HTTP/1.1 throughput and idle memory, WebSocket echo throughput and idle memory, HTTP/2
// throughput and idle memory, the WSGI-style and net/http adapter paths. A goal whose rows
// the run lacks (scenario or server not selected, or every round failed) is left out.
func Targets(r *Report) []Target {
	l := lookup{r}
	var out []Target
	add := func(t Target, ok bool) {
		if ok {
			out = append(out, t)
		}
	}
	add(l.faster("h1-256", 1.5, "nethttp"))
	add(l.leaner("idle-h1-10k", "nbio"))
	add(l.faster("ws-100", 1.0, "gorilla", "gws"))
	add(l.faster("ws-1000", 1.0, "gorilla", "gws"))
	add(l.leaner("idle-ws-10k", "nbio"))
	add(l.leaner("idle-ws-max", "nbio"))
	add(l.faster("h2-10x100", 3.0, "h2c"))
	add(l.within("idle-h2-10k", goalKiB))
	// The WSGI-style path leaves the loop, so it is held to net/http's own server and to
	// the same async hello run off the loop (issue 14, item 8), not to the inlined hello.
	add(l.faster("wsgi-256", 1.2, "nethttp"))
	// The async hello off the loop is asgo-async, alternating with asgo in the same
	// rounds: the two are minutes apart when taken from two scenarios.
	add(l.relative("wsgi-256", "asgo", "asgo-async", 0.9))
	add(l.faster("nethttp-256", 1.2, "nethttp"))
	// Metrics and the access-log file cost at most 3% (issue 17, item 5).
	add(l.relative("h1-256", "asgo-metrics", "asgo", 0.97))
	add(l.relative("h1-256", "asgo-observed", "asgo", 0.97))
	return out
}

// lookup finds pinned rows by scenario ID or by its name before Resolve (idle-ws-max).
type lookup struct{ r *Report }

func (l lookup) scenario(id string) (grid.Scenario, bool) {
	for _, sc := range l.r.Scenarios {
		if sc.ID == id || sc.Alias == id {
			return sc, true
		}
	}
	return grid.Scenario{}, false
}

func (l lookup) row(id, server string) *grid.Row {
	sc, ok := l.scenario(id)
	if !ok {
		return nil
	}
	if r := find(l.r.Rows, sc.ID, server); r != nil && r.Value.N > 0 {
		return r
	}
	return nil
}

// faster: asgo's rate at least factor times the best of peers.
func (l lookup) faster(id string, factor float64, peers ...string) (Target, bool) {
	a := l.row(id, "asgo")
	var best *grid.Row
	for _, p := range peers {
		if r := l.row(id, p); r != nil && (best == nil || r.Value.Median > best.Value.Median) {
			best = r
		}
	}
	if a == nil || best == nil {
		return Target{}, false
	}
	sc, _ := l.scenario(id)
	x := a.Value.Median / best.Value.Median
	return Target{
		Goal: fmt.Sprintf("%s %s: asgo >= %.1fx %s", sc.ID, sc.Unit(), factor, peerLabel(peers)),
		Measured: fmt.Sprintf("%.2fx (%s vs %s %s; per server CPU-s %.2fx)", x, num(a.Value.Median), best.Server,
			num(best.Value.Median), a.PerServerCPU.Median/best.PerServerCPU.Median),
		Met: x >= factor,
	}, true
}

// leaner: asgo's memory per idle connection no more than peer's.
func (l lookup) leaner(id, peer string) (Target, bool) {
	a, p := l.row(id, "asgo"), l.row(id, peer)
	if a == nil || p == nil {
		return Target{}, false
	}
	sc, _ := l.scenario(id)
	return Target{
		Goal:     fmt.Sprintf("%s: asgo KiB/conn <= %s's", sc.ID, peer),
		Measured: fmt.Sprintf("%.2f vs %.2f KiB (%.2fx)", a.Value.Median, p.Value.Median, a.Value.Median/p.Value.Median),
		Met:      a.Value.Median <= p.Value.Median,
	}, true
}

// within: asgo's memory per idle connection at most limit KiB.
func (l lookup) within(id string, limit float64) (Target, bool) {
	a := l.row(id, "asgo")
	if a == nil {
		return Target{}, false
	}
	sc, _ := l.scenario(id)
	measured := fmt.Sprintf("%.2f KiB", a.Value.Median)
	if b := l.row(id, sc.Family.Baseline()); b != nil {
		measured += fmt.Sprintf(" (%s %.2f KiB, %.2fx)", b.Server, b.Value.Median, a.Value.Median/b.Value.Median)
	}
	return Target{
		Goal:     fmt.Sprintf("%s: asgo <= %.0f bytes/conn", sc.ID, limit*1024),
		Measured: measured,
		Met:      a.Value.Median <= limit,
	}, true
}

// relative: the rate of server over at least factor times server under's in the same
// scenario (the same rounds, alternated).
func (l lookup) relative(id, over, under string, factor float64) (Target, bool) {
	n, d := l.row(id, over), l.row(id, under)
	if n == nil || d == nil {
		return Target{}, false
	}
	x := n.Value.Median / d.Value.Median
	return Target{
		Goal: fmt.Sprintf("%s: %s >= %.2fx %s", id, over, factor, under),
		Measured: fmt.Sprintf("%.3fx (%s vs %s; per server CPU-s %.3fx)", x, num(n.Value.Median), num(d.Value.Median),
			n.PerServerCPU.Median/d.PerServerCPU.Median),
		Met: x >= factor,
	}, true
}

func peerLabel(peers []string) string {
	if len(peers) == 1 {
		return peers[0]
	}
	return "the best of " + strings.Join(peers, ", ")
}

func writeTargets(b *strings.Builder, r *Report) {
	ts := Targets(r)
	if len(ts) == 0 {
		return
	}
	b.WriteString("## Targets\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, t := range ts {
		verdict := "no"
		if t.Met {
			verdict = "yes"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", t.Goal, t.Measured, verdict)
	}
	b.WriteString("\n")
}

// find is the pinned row of server in scenario sc, or nil.
func find(rows []grid.Row, sc, srv string) *grid.Row {
	for i := range rows {
		if rows[i].Scenario == sc && rows[i].Server == srv && rows[i].Pinned {
			return &rows[i]
		}
	}
	return nil
}
