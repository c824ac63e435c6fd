package report

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/asgo-dev/asgo/bench/internal/grid"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// WriteCharts renders every chart as SVG and PNG into dir and returns the file names.
func WriteCharts(dir string, r *Report) ([]string, error) {
	var files []string
	for _, c := range charts(r) {
		for _, format := range []struct {
			ext string
			rp  chart.RendererProvider
		}{{".svg", chart.SVG}, {".png", chart.PNG}} {
			var buf bytes.Buffer
			if err := c.render(format.rp, &buf); err != nil {
				return files, fmt.Errorf("report: chart %s: %w", c.name, err)
			}
			name := c.name + format.ext
			if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
				return files, fmt.Errorf("report: %w", err)
			}
			files = append(files, name)
		}
	}
	return files, nil
}

type renderable struct {
	name   string
	render func(chart.RendererProvider, *bytes.Buffer) error
}

// charts picks the charts the run's data supports: throughput against connections where a
// family was run at two or more counts, a bar chart per scenario otherwise, and memory per
// idle connection per idle scenario. Only pinned rows are charted.
func charts(r *Report) []renderable {
	var out []renderable
	byFamily := map[grid.Family][]grid.Scenario{}
	var families []grid.Family
	for _, sc := range r.Scenarios {
		if _, ok := byFamily[sc.Family]; !ok {
			families = append(families, sc.Family)
		}
		byFamily[sc.Family] = append(byFamily[sc.Family], sc)
	}
	for _, f := range families {
		scs := byFamily[f]
		if (f == grid.Hello || f == grid.WS) && countsRun(r, scs) >= 2 {
			out = append(out, lineChart(r, f, scs))
			continue
		}
		for _, sc := range scs {
			if bars := barValues(r, sc); len(bars) > 0 {
				out = append(out, barChart(sc, bars))
			}
		}
	}
	return out
}

func countsRun(r *Report, scs []grid.Scenario) int {
	n := 0
	for _, sc := range scs {
		if len(rowsOf(r.Rows, sc.ID, true)) > 0 {
			n++
		}
	}
	return n
}

// lineChart plots the family's rate against log2(connections), one series per server.
func lineChart(r *Report, f grid.Family, scs []grid.Scenario) renderable {
	scs = slices.Clone(scs)
	slices.SortFunc(scs, func(a, b grid.Scenario) int { return a.Conns - b.Conns })
	var servers []string
	for _, sc := range scs {
		for _, row := range rowsOf(r.Rows, sc.ID, true) {
			if !slices.Contains(servers, row.Server) {
				servers = append(servers, row.Server)
			}
		}
	}
	var series []chart.Series
	var ticks []chart.Tick
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, sc := range scs {
		x := math.Log2(float64(sc.Conns))
		ticks = append(ticks, chart.Tick{Value: x, Label: fmt.Sprint(sc.Conns)})
		xmin, xmax = min(xmin, x), max(xmax, x)
	}
	for i, srv := range servers {
		var xs, ys []float64
		for _, sc := range scs {
			for _, row := range rowsOf(r.Rows, sc.ID, true) {
				if row.Server == srv && row.Value.N > 0 {
					xs, ys = append(xs, math.Log2(float64(sc.Conns))), append(ys, row.Value.Median)
				}
			}
		}
		if len(xs) == 0 {
			continue
		}
		ymax = max(ymax, slices.Max(ys))
		series = append(series, chart.ContinuousSeries{Name: srv, XValues: xs, YValues: ys, Style: lineStyle(srv, i)})
	}
	unit := scs[0].Unit()
	c := chart.Chart{
		Title: fmt.Sprintf("%s: %s vs connections (pinned, median)", f, unit), Width: 900, Height: 500,
		Background: chart.Style{Padding: chart.Box{Top: 50, Left: 140, Right: 20, Bottom: 20}},
		XAxis: chart.XAxis{Name: "connections", Ticks: ticks,
			Range: &chart.ContinuousRange{Min: xmin - 0.3, Max: xmax + 0.3}},
		YAxis: chart.YAxis{Name: unit, ValueFormatter: func(v any) string { return num(v.(float64)) },
			Range: &chart.ContinuousRange{Min: 0, Max: 1.1 * ymax}},
		Series: series,
	}
	c.Elements = []chart.Renderable{chart.LegendLeft(&c, chart.Style{FillColor: drawing.ColorWhite})}
	name := "throughput-vs-connections-" + string(f)
	return renderable{name: name, render: func(rp chart.RendererProvider, b *bytes.Buffer) error { return c.Render(rp, b) }}
}

func barValues(r *Report, sc grid.Scenario) []chart.Value {
	var bars []chart.Value
	for _, row := range rowsOf(r.Rows, sc.ID, true) {
		if row.Value.N > 0 && row.Value.Median > 0 {
			bars = append(bars, chart.Value{Label: row.Server, Value: row.Value.Median})
		}
	}
	return bars
}

// barChart shows one scenario's median per server: throughput, memory per idle connection,
// or a bystander's latency under flood.
func barChart(sc grid.Scenario, bars []chart.Value) renderable {
	title := fmt.Sprintf("%s: %s (pinned, median)", sc.ID, sc.Unit())
	prefix := "throughput-"
	switch {
	case sc.Family.Idle():
		title = fmt.Sprintf("%s: memory per idle connection, KiB (%d connections)", sc.ID, sc.Conns)
		prefix = "memory-per-connection-"
	case sc.Family == grid.Fairness:
		title = fmt.Sprintf("%s: a bystander's p99 under flood, ms (pinned, median)", sc.ID)
		prefix = "latency-"
	}
	for i := range bars {
		color := serverColor(bars[i].Label, i)
		bars[i].Style = chart.Style{FillColor: color, StrokeColor: color}
	}
	c := chart.BarChart{
		Title: title, Width: max(640, 120*len(bars)), Height: 460, BarWidth: 60, Bars: bars,
		Background: chart.Style{Padding: chart.Box{Top: 50, Bottom: 40, Left: 10, Right: 10}},
		YAxis: chart.YAxis{ValueFormatter: func(v any) string { return shortNum(v.(float64)) },
			Range: &chart.ContinuousRange{Min: 0, Max: 1.1 * maxValue(bars)}},
	}
	return renderable{name: prefix + sc.ID, render: func(rp chart.RendererProvider, b *bytes.Buffer) error { return c.Render(rp, b) }}
}

// serverColors gives each server the same colour in every chart, none shared within a
// chart (go-chart's default palette repeats after five): asgo red, the raw gnet ceiling grey.
var serverColors = map[string]drawing.Color{
	"asgo":       {R: 214, G: 39, B: 40, A: 255},
	"gnetraw":    {R: 127, G: 127, B: 127, A: 255},
	"nethttp":    {R: 31, G: 119, B: 180, A: 255},
	"h2c":        {R: 31, G: 119, B: 180, A: 255},
	"gorilla":    {R: 31, G: 119, B: 180, A: 255},
	"fasthttp":   {R: 255, G: 127, B: 14, A: 255},
	"hertz":      {R: 44, G: 160, B: 44, A: 255},
	"nbio":       {R: 148, G: 103, B: 189, A: 255},
	"gws":        {R: 140, G: 86, B: 75, A: 255},
	"uvicorn":    {R: 227, G: 119, B: 194, A: 255},
	"hypercorn":  {R: 188, G: 189, B: 34, A: 255},
	"daphne":     {R: 23, G: 190, B: 207, A: 255},
	"gunicorn":   {R: 255, G: 187, B: 120, A: 255},
	"uwsgi":      {R: 152, G: 223, B: 138, A: 255},
	"nginx-asgo": {R: 0, G: 0, B: 0, A: 255},
	// deploy-256's fronts
	"nginx-asgo-unix":   {R: 90, G: 90, B: 90, A: 255},
	"nginx-uwsgi-asgo":  {R: 255, G: 152, B: 150, A: 255},
	"nginx-uwsgi-uwsgi": {R: 152, G: 223, B: 138, A: 255},
	"haproxy-asgo":      {R: 196, G: 156, B: 148, A: 255},
	// asgo with metrics, and with metrics and the access-log file: darker reds.
	"asgo-metrics":  {R: 180, G: 30, B: 30, A: 255},
	"asgo-observed": {R: 140, G: 20, B: 20, A: 255},
	"asgo-async":    {R: 240, G: 110, B: 90, A: 255},
}

// serverColor is srv's colour, or the i-th default colour for a server not listed.
func serverColor(srv string, i int) drawing.Color {
	if c, ok := serverColors[srv]; ok {
		return c
	}
	return chart.GetDefaultColor(i)
}

// lineStyle draws asgo thicker and the raw gnet ceiling dashed.
func lineStyle(srv string, i int) chart.Style {
	color := serverColor(srv, i)
	st := chart.Style{StrokeColor: color, StrokeWidth: 2, DotColor: color, DotWidth: 4}
	switch srv {
	case "asgo":
		st.StrokeWidth, st.DotWidth = 4, 5
	case "gnetraw":
		st.StrokeDashArray = []float64{6, 4}
	}
	return st
}

func maxValue(bars []chart.Value) float64 {
	m := 0.0
	for _, b := range bars {
		m = max(m, b.Value)
	}
	return m
}

func shortNum(v float64) string {
	if v >= 10 {
		return num(v)
	}
	return fmt.Sprintf("%.2f", v)
}
