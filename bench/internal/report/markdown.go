package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/asgo-dev/asgo/bench/internal/grid"
	"github.com/asgo-dev/asgo/bench/internal/stats"
)

// Markdown renders the environment header, one table per scenario and links to the charts.
func Markdown(r *Report, charts []string) string {
	var b strings.Builder
	b.WriteString("# asgo benchmark results\n\n")
	writeEnv(&b, r.Env)
	writeTargets(&b, r)
	writeGlance(&b, r)
	for _, variant := range []bool{true, false} {
		for _, sc := range r.Scenarios {
			rows := rowsOf(r.Rows, sc.ID, variant)
			if len(rows) == 0 {
				continue
			}
			fmt.Fprintf(&b, "## %s — %s (%s)\n\n", sc.ID, sc.Title, variantLabel(variant))
			switch {
			case sc.Family.Idle():
				writeIdleTable(&b, sc, rows)
			case sc.Family == grid.Fairness:
				writeFairnessTable(&b, sc, rows)
			default:
				writeThroughputTable(&b, sc, rows)
			}
			writeFailures(&b, rows)
		}
	}
	for _, c := range charts {
		if strings.HasSuffix(c, ".svg") {
			fmt.Fprintf(&b, "![%s](%s)\n\n", strings.TrimSuffix(c, ".svg"), c)
		}
	}
	return b.String()
}

// writeGlance is one row per pinned scenario with asgo's figure, its ratios, the best other
// server and what limited asgo.
func writeGlance(b *strings.Builder, r *Report) {
	var lines []string
	for _, sc := range r.Scenarios {
		a := find(r.Rows, sc.ID, "asgo")
		if a == nil || a.Value.N == 0 {
			continue
		}
		best := bestOther(rowsOf(r.Rows, sc.ID, true), sc.Family.LowerIsBetter())
		lines = append(lines, fmt.Sprintf("| %s | %s %s | %s | %s | %s | %s | %s |", sc.ID, figure(a.Value.Median, sc), sc.Unit(),
			ratio(a.VsBaseline), ratio(a.VsCeiling), ratio(a.CPUVsBaseline), best, orDash(a.LimitedBy)))
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("## asgo at a glance (pinned, medians)\n\n| scenario | asgo | vs baseline | vs ceiling | per server CPU-s vs baseline | best other server | asgo limited by |\n|---|--:|--:|--:|--:|---|---|\n")
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
}

// bestOther is the best server other than asgo and the raw gnet ceiling: highest rate, or
// least memory per idle connection or latency.
func bestOther(rows []grid.Row, lowerIsBetter bool) string {
	var best *grid.Row
	for i := range rows {
		r := &rows[i]
		if r.Server == "asgo" || r.Server == "gnetraw" || r.Value.N == 0 {
			continue
		}
		if best == nil || (lowerIsBetter && r.Value.Median < best.Value.Median) || (!lowerIsBetter && r.Value.Median > best.Value.Median) {
			best = r
		}
	}
	if best == nil {
		return "—"
	}
	return best.Server + " " + figureRow(best.Value.Median, lowerIsBetter)
}

func figure(v float64, sc grid.Scenario) string { return figureRow(v, sc.Family.LowerIsBetter()) }

// figureRow formats a rate as a whole number, memory and latency with two decimals.
func figureRow(v float64, lowerIsBetter bool) string {
	if lowerIsBetter {
		return fmt.Sprintf("%.2f", v)
	}
	return num(v)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func variantLabel(pinned bool) string {
	if pinned {
		return "pinned"
	}
	return "unpinned"
}

func writeEnv(b *strings.Builder, e grid.Env) {
	if e.Note != "" {
		fmt.Fprintf(b, "> **Note:** %s\n\n", e.Note)
	}
	if e.StealShare > 0.05 {
		fmt.Fprintf(b, "> **Noise:** the hypervisor stole %.0f%% of the CPU time during this run; treat the figures as noise.\n\n", 100*e.StealShare)
	}
	fmt.Fprintf(b, "| | |\n|---|---|\n")
	for _, kv := range [][2]string{
		{"date", e.Date}, {"host / kernel", e.Host + " / " + e.Kernel}, {"CPU", fmt.Sprintf("%s, %d cores", e.CPU, e.Cores)},
		{"load average at start", e.LoadAvg}, {"CPU contention", e.Contention}, {"open-file limit", fmt.Sprint(e.FileLimit)},
		{"Go (harness / asgo)", e.GoVersion + " / " + e.ASGOGo}, {"asgo commit", e.ASGOCommit},
		{"pinning", e.Pinning}, {"GOMAXPROCS", e.GOMAXPROCS}, {"timing", e.Timing},
	} {
		fmt.Fprintf(b, "| %s | %s |\n", kv[0], kv[1])
	}
	keys := make([]string, 0, len(e.Versions))
	for k := range e.Versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var vs []string
	for _, k := range keys {
		vs = append(vs, k+" "+e.Versions[k])
	}
	fmt.Fprintf(b, "| versions | %s |\n\n", strings.Join(vs, ", "))
}

func rowsOf(rows []grid.Row, sc string, pinned bool) []grid.Row {
	var out []grid.Row
	for _, r := range rows {
		if r.Scenario == sc && r.Pinned == pinned {
			out = append(out, r)
		}
	}
	return out
}

func writeThroughputTable(b *strings.Builder, sc grid.Scenario, rows []grid.Row) {
	base, ceil := sc.Family.Baseline(), sc.Family.Ceiling()
	fmt.Fprintf(b, "| server | %s (median) | min–max | vs %s | vs %s | per server CPU-s | vs %s per CPU-s | p50 ms | p99 ms | mean ms | server cores | load cores | limited by |\n",
		sc.Unit(), base, ceilingLabel(ceil), base)
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		if r.Value.N == 0 {
			fmt.Fprintf(b, "| %s | failed | | | | | | | | | | | |\n", r.Server)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s–%s | %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %s |\n",
			r.Server, num(r.Value.Median), num(r.Value.Min), num(r.Value.Max), ratio(r.VsBaseline), ratio(r.VsCeiling),
			num(r.PerServerCPU.Median), ratio(r.CPUVsBaseline), fix(r.P50ms), fix(r.P99ms), fix(r.MeanMs), r.ServerCores, r.LoadCores, r.LimitedBy)
	}
	b.WriteString("\n")
	writePeakRSS(b, rows)
}

// writePeakRSS lists the servers' peak RSS over the measured intervals, where it was sampled.
func writePeakRSS(b *strings.Builder, rows []grid.Row) {
	var parts []string
	for _, r := range rows {
		if r.PeakRSSMiB > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f MiB", r.Server, r.PeakRSSMiB))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(b, "Peak server RSS during the measured interval (median of rounds): %s.\n\n", strings.Join(parts, ", "))
	}
}

// writeFairnessTable shows the bystander's latency under the floods against the baseline's
// and against its own alone, and what the floods got done meanwhile.
func writeFairnessTable(b *strings.Builder, sc grid.Scenario, rows []grid.Row) {
	base := sc.Family.Baseline()
	fmt.Fprintf(b, "| server | bystander p99 under flood, ms (median) | min–max | vs %s | p50 ms | max ms | alone p50 ms | alone p99 ms | alone max ms | p99 flood / alone | pipelined req/s | echo MiB/s | server cores | load cores | limited by |\n", base)
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		f := r.Fairness
		if r.Value.N == 0 || f == nil {
			fmt.Fprintf(b, "| %s | failed | | | | | | | | | | | | | |\n", r.Server)
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s–%s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %.2f | %.2f | %s |\n",
			r.Server, fix(r.Value.Median), fix(r.Value.Min), fix(r.Value.Max), ratio(r.VsBaseline), fix(r.P50ms), fix(f.MaxMs),
			fix(f.AloneP50ms), fix(f.AloneP99ms), fix(f.AloneMaxMs), ratio(stats.Ratio(r.Value.Median, f.AloneP99ms)),
			num(f.PipelinedRate), f.EchoMiBps, r.ServerCores, r.LoadCores, r.LimitedBy)
	}
	b.WriteString("\nLatency is one bystander's sequential GET round trips; lower is better, and a ratio below 1.00x is better than the baseline. " +
		"The floods run on two other connections of the same loop; their throughput is what they got done over the measured interval.\n\n")
}

func writeIdleTable(b *strings.Builder, sc grid.Scenario, rows []grid.Row) {
	base, ceil := sc.Family.Baseline(), sc.Family.Ceiling()
	fmt.Fprintf(b, "| server | connections | KiB per idle connection (median) | min–max | vs %s | vs %s |\n|---|--:|--:|--:|--:|--:|\n", base, ceilingLabel(ceil))
	for _, r := range rows {
		if r.Value.N == 0 {
			fmt.Fprintf(b, "| %s | %d | failed | | | |\n", r.Server, r.Conns)
			continue
		}
		fmt.Fprintf(b, "| %s | %d | %.2f | %.2f–%.2f | %s | %s |\n", r.Server, r.Conns, r.Value.Median, r.Value.Min, r.Value.Max,
			ratio(r.VsBaseline), ratio(r.VsCeiling))
	}
	b.WriteString("\n")
}

func writeFailures(b *strings.Builder, rows []grid.Row) {
	for _, r := range rows {
		for _, e := range r.Errors {
			fmt.Fprintf(b, "- %s: %s\n", r.Server, oneLine(e))
		}
	}
	for _, r := range rows {
		if len(r.Errors) > 0 {
			b.WriteString("\n")
			return
		}
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func ceilingLabel(s string) string {
	if s == "" {
		return "ceiling"
	}
	return s
}

// num formats a rate with thousands separators.
func num(v float64) string {
	if math.IsNaN(v) || v == 0 {
		return "—"
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func ratio(v float64) string {
	if math.IsNaN(v) || v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2fx", v)
}

func fix(v float64) string {
	if math.IsNaN(v) || v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}
