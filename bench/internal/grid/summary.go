package grid

import (
	"fmt"
	"math"

	"github.com/asgo-dev/asgo/bench/internal/stats"
)

// Row summarises the rounds of one server in one scenario and variant.
type Row struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Pinned   bool   `json:"pinned"`
	Conns    int    `json:"conns"`
	// Value is the scenario's figure: requests (messages) per second, or KiB per idle
	// connection.
	Value stats.Spread `json:"value"`
	// PerServerCPU is requests per server CPU-second (throughput scenarios).
	PerServerCPU stats.Spread `json:"per_server_cpu"`
	// VsBaseline and VsCeiling divide Value's median by the baseline's and the raw gnet
	// server's medians (NaN when absent). For memory, lower is better, so the ratio is
	// still server / baseline.
	VsBaseline    float64 `json:"vs_baseline"`
	VsCeiling     float64 `json:"vs_ceiling"`
	CPUVsBaseline float64 `json:"per_cpu_vs_baseline"`
	P50ms         float64 `json:"p50_ms"`
	MeanMs        float64 `json:"mean_ms"`
	P99ms         float64 `json:"p99_ms"`
	// ServerCores and LoadCores are the median CPU cores used by each side.
	ServerCores float64 `json:"server_cores"`
	LoadCores   float64 `json:"load_cores"`
	SysShare    float64 `json:"server_sys_share"`
	LimitedBy   string  `json:"limited_by"`
	// PeakRSSMiB is the median of the server's peak RSS over the measured intervals
	// (Broadcast scenarios; 0 otherwise).
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
	// Fairness holds the medians of the rounds' fairness figures (Fairness scenarios,
	// whose Value is the bystander's p99 under the floods, in ms).
	Fairness *FairnessFigures `json:"fairness,omitempty"`
	Failed   int              `json:"failed"`
	Errors   []string         `json:"errors,omitempty"`
}

// Summarize groups measurements by scenario, server and variant, in the order of first
// appearance, and computes medians, spreads and ratios.
func Summarize(ms []Measurement, scs []Scenario) []Row {
	type key struct {
		sc, srv string
		pinned  bool
	}
	groups := map[key][]Measurement{}
	var order []key
	for _, m := range ms {
		k := key{m.Scenario, m.Server, m.Pinned}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m)
	}
	fam := familyOf(scs)
	rows := make([]Row, 0, len(order))
	for _, k := range order {
		rows = append(rows, summarizeGroup(groups[k], fam[k.sc]))
	}
	for i := range rows {
		ratios(&rows[i], rows, fam[rows[i].Scenario])
	}
	return rows
}

func familyOf(scs []Scenario) map[string]Family {
	m := map[string]Family{}
	for _, s := range scs {
		m[s.ID] = s.Family
	}
	return m
}

func summarizeGroup(g []Measurement, f Family) Row {
	r := Row{Scenario: g[0].Scenario, Server: g[0].Server, Pinned: g[0].Pinned, Conns: g[0].Conns}
	var val, perCPU, p50, p99, mean, srv, load, sys, peak []float64
	var fair []FairnessFigures
	for _, m := range g {
		if !m.Valid() {
			r.Failed++
			r.Errors = append(r.Errors, failure(&m))
			continue
		}
		if m.RSSKiB != 0 {
			val = append(val, m.PerConnKiB)
			continue
		}
		if f == Fairness {
			val = append(val, m.P99ms)
		} else {
			val = append(val, m.Rate)
		}
		if m.Fairness != nil {
			fair = append(fair, *m.Fairness)
		}
		perCPU = append(perCPU, m.PerServerCPU())
		p50, p99 = append(p50, nanIfZero(m.P50ms)), append(p99, nanIfZero(m.P99ms))
		mean = append(mean, nanIfZero(m.MeanMs))
		srv = append(srv, m.ServerCPU()/m.Seconds)
		load = append(load, m.LoadCPU/m.Seconds)
		sys = append(sys, m.ServerSys/m.ServerCPU())
		if m.PeakRSSKiB > 0 {
			peak = append(peak, float64(m.PeakRSSKiB)/1024)
		}
	}
	if len(peak) > 0 {
		r.PeakRSSMiB = stats.Summarize(peak).Median
	}
	r.Fairness = medianFigures(fair)
	r.Value, r.PerServerCPU = stats.Summarize(val), stats.Summarize(perCPU)
	r.P50ms, r.P99ms = stats.Summarize(p50).Median, stats.Summarize(p99).Median
	r.MeanMs = stats.Summarize(mean).Median
	r.ServerCores, r.LoadCores = stats.Summarize(srv).Median, stats.Summarize(load).Median
	r.SysShare = stats.Summarize(sys).Median
	if len(perCPU) > 0 {
		r.LimitedBy = limiter(r.ServerCores, r.LoadCores, r.SysShare, r.Pinned)
	}
	return r
}

// medianFigures is the median of each fairness figure over the rounds; nil without any.
func medianFigures(rounds []FairnessFigures) *FairnessFigures {
	if len(rounds) == 0 {
		return nil
	}
	var out FairnessFigures
	for i, field := range out.fields() {
		vs := make([]float64, len(rounds))
		for j := range rounds {
			vs[j] = *rounds[j].fields()[i]
		}
		*field = stats.Summarize(vs).Median
	}
	return &out
}

func failure(m *Measurement) string {
	if m.Error != "" {
		return m.Error
	}
	if m.RSSKiB != 0 {
		return fmt.Sprintf("only %d of %d connections stayed open", m.Alive, m.Conns)
	}
	return fmt.Sprintf("%d errors in %d requests", m.Errors, m.Requests)
}

func nanIfZero(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}

// saturated is the share of a core above which a side counts as CPU-bound.
const saturated = 0.9

// limiter names what bounded a throughput figure. Pinned, each side owns one core; unpinned,
// both share two.
func limiter(server, load, sysShare float64, pinned bool) string {
	kernel := fmt.Sprintf("%.0f%% of it in the kernel", 100*sysShare)
	switch {
	case pinned && load >= saturated && server >= saturated:
		return "both cores saturated (server " + kernel + ")"
	case pinned && load >= saturated:
		return "load generator CPU"
	case pinned && server >= saturated:
		return "server CPU, " + kernel
	case !pinned && server+load >= 2*saturated:
		return fmt.Sprintf("shared CPU (server %.1f, load %.1f cores)", server, load)
	}
	return fmt.Sprintf("neither side saturated (server %.0f%%, load %.0f%%): latency and syscalls", 100*server, 100*load)
}

// ratios fills the ratios of r against the baseline and ceiling rows of its scenario.
func ratios(r *Row, rows []Row, f Family) {
	r.VsBaseline, r.VsCeiling, r.CPUVsBaseline = math.NaN(), math.NaN(), math.NaN()
	if b := find(rows, r.Scenario, f.Baseline(), r.Pinned); b != nil {
		r.VsBaseline = stats.Ratio(r.Value.Median, b.Value.Median)
		r.CPUVsBaseline = stats.Ratio(r.PerServerCPU.Median, b.PerServerCPU.Median)
	}
	if c := find(rows, r.Scenario, f.Ceiling(), r.Pinned); c != nil {
		r.VsCeiling = stats.Ratio(r.Value.Median, c.Value.Median)
	}
}

func find(rows []Row, sc, srv string, pinned bool) *Row {
	if srv == "" {
		return nil
	}
	for i := range rows {
		if rows[i].Scenario == sc && rows[i].Server == srv && rows[i].Pinned == pinned {
			return &rows[i]
		}
	}
	return nil
}
