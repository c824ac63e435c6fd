package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/grid"
	"github.com/asgo-dev/asgo/bench/internal/procstat"
	"github.com/asgo-dev/asgo/bench/internal/report"
)

type options struct {
	setup         grid.Setup
	servers       string
	scenarios     string
	rounds        int
	timing        grid.Timing
	pin           string
	unpinned      string
	idleMax       int
	idleConns     int
	out           string
	note          string
	quick, strict bool
	list, dryRun  bool
	render        string
	asgoRoutes    string
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.setup.ASGO, "asgo", os.Getenv("ASGO"), "asgo binary (default $ASGO)")
	flag.StringVar(&o.setup.BinDir, "bin", "bin", "directory of the Go peers and benchload")
	flag.StringVar(&o.setup.PythonDir, "python-dir", "peers/python", "directory of the Python peers' app.py")
	flag.StringVar(&o.setup.Python, "python", "/usr/bin/python3", "Python interpreter that sees Debian's packages")
	flag.StringVar(&o.servers, "servers", "", "comma-separated servers (default: each scenario's own list)")
	flag.StringVar(&o.scenarios, "scenarios", "", "comma-separated scenario IDs or families (default: all)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds (servers alternate A B C in each)")
	flag.DurationVar(&o.timing.Duration, "duration", 2*time.Second, "measured interval per run")
	flag.DurationVar(&o.timing.Warmup, "warmup", time.Second, "warm-up per run")
	flag.DurationVar(&o.timing.Settle, "settle", 700*time.Millisecond, "wait before each RSS reading in idle scenarios")
	flag.StringVar(&o.pin, "pin", "both", "on (pinned only), off (unpinned only) or both")
	flag.StringVar(&o.unpinned, "unpinned-scenarios", "h1-256", "scenarios of the unpinned variant (empty: all)")
	flag.IntVar(&o.idleMax, "idle-max", 100000, "ceiling of the largest idle count (also bounded by the open-file limit)")
	flag.IntVar(&o.idleConns, "idle-conns", 0, "use this idle count for every idle scenario (0: 10k and the largest)")
	flag.StringVar(&o.out, "out", "", "output directory (default results/tmp/<UTC time>)")
	flag.StringVar(&o.note, "note", "", "note printed above the results (e.g. machine not quiet)")
	flag.BoolVar(&o.quick, "quick", false, "quick preset: a few scenarios and servers, 1 round, short intervals")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 if any run failed (used by the smoke test)")
	flag.BoolVar(&o.list, "list", false, "list servers and scenarios and exit")
	flag.BoolVar(&o.dryRun, "dry-run", false, "print the plan and its estimated duration and exit")
	flag.StringVar(&o.render, "render", "", "rewrite the reports of a finished run in this directory from its results.json")
	flag.StringVar(&o.asgoRoutes, "asgo-routes", "", "override asgo's routes: family=path,... (e.g. wsgi=/wsgi/)")
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	if o.list {
		list()
		return
	}
	if o.render != "" {
		if err := render(o.render); err != nil {
			fmt.Fprintln(os.Stderr, "benchgrid:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "benchgrid:", err)
		os.Exit(1)
	}
}

func list() {
	fmt.Println("servers:")
	for _, n := range grid.ServerNames() {
		fmt.Printf("  %-11s %s\n", n, grid.Servers[n].Title)
	}
	fmt.Println("scenarios:")
	for _, s := range grid.Scenarios {
		fmt.Printf("  %-12s %s [%s]\n", s.ID, s.Title, strings.Join(s.Servers, " "))
	}
}

func applyQuick(o *options) {
	if !o.quick {
		return
	}
	setIfDefault := func(name string, set func()) {
		explicit := false
		flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == name })
		if !explicit {
			set()
		}
	}
	setIfDefault("scenarios", func() { o.scenarios = strings.Join(grid.QuickScenarios, ",") })
	setIfDefault("servers", func() { o.servers = strings.Join(grid.QuickServers, ",") })
	setIfDefault("rounds", func() { o.rounds = 1 })
	setIfDefault("warmup", func() { o.timing.Warmup = 500 * time.Millisecond })
	setIfDefault("pin", func() { o.pin = "on" })
}

func run(o *options) error {
	applyQuick(o)
	if err := o.check(); err != nil {
		return err
	}
	hard, err := procstat.RaiseFileLimit()
	if err != nil {
		return err
	}
	scs, err := grid.Select(grid.Resolve(grid.Scenarios, grid.MaxIdleConns(hard, o.idleMax), o.idleConns), split(o.scenarios))
	if err != nil {
		return err
	}
	jobs, err := grid.Plan(grid.PlanConfig{Scenarios: scs, Servers: split(o.servers), Rounds: o.rounds,
		Pinned: o.pin != "off", Unpinned: o.pin != "on", UnpinnedScenarios: split(o.unpinned)})
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		return errors.New("nothing to run: no selected server supports the selected scenarios")
	}
	if o.dryRun {
		for i, j := range jobs {
			fmt.Printf("%4d %-16s round %d pinned=%-5v %s\n", i+1, j.IDs(), j.Round, j.Pinned, j.Server.Name)
		}
		fmt.Printf("%d runs, about %s\n", len(jobs), grid.Estimate(jobs, o.timing).Round(time.Second))
		return nil
	}
	return execute(o, scs, jobs)
}

func execute(o *options, scs []grid.Scenario, jobs []grid.Job) error {
	if o.out == "" {
		o.out = filepath.Join("results", "tmp", time.Now().UTC().Format("20060102-150405"))
	}
	r := &grid.Runner{Setup: &o.setup, Timing: o.timing, LogDir: filepath.Join(o.out, "logs")}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := r.Prepare(o.out); err != nil {
		return err
	}
	env := grid.Collect(&o.setup, o.timing, o.rounds, o.note)
	fmt.Fprintf(os.Stderr, "benchgrid: %d runs, results in %s (load average %s)\n", len(jobs), o.out, env.LoadAvg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ms := grid.Execute(ctx, r, jobs, os.Stderr)
	env.Finish()
	rep := &report.Report{Env: env, Scenarios: scs, Measurements: ms, Rows: grid.Summarize(ms, scs)}
	files, err := report.Write(o.out, rep)
	if err != nil {
		return err
	}
	fmt.Print(report.Markdown(rep, files.Charts))
	fmt.Fprintf(os.Stderr, "benchgrid: wrote %s/{%s,%s,%s} and %d chart files\n", o.out, files.JSON, files.Markdown, files.HTML, len(files.Charts))
	return o.verdict(ms, files)
}

// verdict fails a strict run when any measurement failed or no chart was drawn.
func (o *options) verdict(ms []grid.Measurement, files report.Files) error {
	if !o.strict {
		return nil
	}
	var bad []string
	for _, m := range ms {
		if !m.Valid() {
			bad = append(bad, fmt.Sprintf("%s/%s round %d", m.Scenario, m.Server, m.Round))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d failed runs: %s", len(bad), strings.Join(bad, ", "))
	}
	if len(files.Charts) == 0 {
		return errors.New("no chart was written")
	}
	return nil
}

func (o *options) check() error {
	if o.pin != "on" && o.pin != "off" && o.pin != "both" {
		return fmt.Errorf("-pin must be on, off or both, not %q", o.pin)
	}
	if runtime.NumCPU() < 2 && o.pin != "off" {
		fmt.Fprintln(os.Stderr, "benchgrid: fewer than 2 usable CPUs, so server and load generator cannot be pinned apart: running unpinned")
		o.pin, o.unpinned = "off", ""
	}
	routes, err := parseRoutes(o.asgoRoutes)
	if err != nil {
		return err
	}
	o.setup.ASGORoutes = routes
	needsASGO := o.servers == "" || strings.Contains(","+o.servers+",", ",asgo,") || strings.Contains(o.servers, "nginx-asgo")
	if needsASGO {
		if o.setup.ASGO == "" {
			return errors.New("asgo binary not given: pass -asgo PATH or set ASGO")
		}
		abs, err := filepath.Abs(o.setup.ASGO)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("asgo binary: %w", err)
		}
		o.setup.ASGO = abs
	}
	for _, p := range []*string{&o.setup.BinDir, &o.setup.PythonDir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	return nil
}

func parseRoutes(s string) (map[grid.Family]string, error) {
	out := map[grid.Family]string{}
	for _, kv := range split(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(v, "/") {
			return nil, fmt.Errorf("-asgo-routes: want family=/path, got %q", kv)
		}
		out[grid.Family(k)] = v
	}
	return out, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// render rebuilds the summary, tables and charts of a finished run from its measurements.
func render(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return err
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	rep.Rows = grid.Summarize(rep.Measurements, rep.Scenarios)
	files, err := report.Write(dir, &rep)
	if err != nil {
		return err
	}
	fmt.Print(report.Markdown(&rep, files.Charts))
	return nil
}
