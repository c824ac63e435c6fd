package report

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/asgo-dev/asgo/bench/internal/grid"
)

// Report is one run: its environment, scenarios, raw measurements and summary rows.
type Report struct {
	Env          grid.Env           `json:"env"`
	Scenarios    []grid.Scenario    `json:"scenarios"`
	Measurements []grid.Measurement `json:"measurements"`
	Rows         []grid.Row         `json:"rows"`
}

// Files are the names Write produces in its directory (charts depend on the scenarios run).
type Files struct {
	JSON, Markdown, HTML string
	Charts               []string
}

// Write writes every output into dir, creating it.
func Write(dir string, r *Report) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("report: %w", err)
	}
	f := Files{JSON: "results.json", Markdown: "results.md", HTML: "index.html"}
	js, err := json.MarshalIndent(jsonSafe(r), "", "  ")
	if err != nil {
		return f, fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, f.JSON), js, 0o644); err != nil {
		return f, fmt.Errorf("report: %w", err)
	}
	charts, err := WriteCharts(dir, r)
	if err != nil {
		return f, err
	}
	f.Charts = charts
	if err := os.WriteFile(filepath.Join(dir, f.Markdown), []byte(Markdown(r, charts)), 0o644); err != nil {
		return f, fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, f.HTML), []byte(HTML(r, charts)), 0o644); err != nil {
		return f, fmt.Errorf("report: %w", err)
	}
	return f, nil
}

// jsonSafe replaces NaN ratios (no baseline in the run) with zero, which JSON can carry.
func jsonSafe(r *Report) *Report {
	c := *r
	c.Rows = append([]grid.Row(nil), r.Rows...)
	for i := range c.Rows {
		row := &c.Rows[i]
		for _, p := range []*float64{&row.VsBaseline, &row.VsCeiling, &row.CPUVsBaseline, &row.P50ms, &row.P99ms, &row.MeanMs,
			&row.ServerCores, &row.LoadCores, &row.SysShare, &row.Value.Median, &row.PerServerCPU.Median} {
			if math.IsNaN(*p) || math.IsInf(*p, 0) {
				*p = 0
			}
		}
	}
	return &c
}
