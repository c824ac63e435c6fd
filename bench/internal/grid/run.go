package grid

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/loadgen"
	"github.com/asgo-dev/asgo/bench/internal/procstat"
)

// Measurement is one run of one server in one scenario.
type Measurement struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Round    int    `json:"round"`
	Pinned   bool   `json:"pinned"`
	Conns    int    `json:"conns"`
	// Rate is requests (or messages) per second; for idle scenarios it is unused.
	Rate     float64 `json:"rate,omitempty"`
	Requests int64   `json:"requests,omitempty"`
	Errors   int64   `json:"errors,omitempty"`
	Seconds  float64 `json:"seconds,omitempty"`
	// ServerUser and ServerSys are the server's CPU seconds over the measured interval.
	ServerUser float64 `json:"server_user_s,omitempty"`
	ServerSys  float64 `json:"server_sys_s,omitempty"`
	// LoadCPU is the load generator's CPU seconds.
	LoadCPU float64 `json:"load_cpu_s,omitempty"`
	P50ms   float64 `json:"p50_ms,omitempty"`
	P99ms   float64 `json:"p99_ms,omitempty"`
	MeanMs  float64 `json:"mean_ms,omitempty"`
	// PeakRSSKiB is the server's largest RSS sampled during the measured interval
	// (Broadcast scenarios).
	PeakRSSKiB int64 `json:"peak_rss_kib,omitempty"`
	// Idle scenarios: server RSS before and with the connections open, and per connection.
	RSSBaseKiB int64   `json:"rss_base_kib,omitempty"`
	RSSKiB     int64   `json:"rss_kib,omitempty"`
	PerConnKiB float64 `json:"per_conn_kib,omitempty"`
	Alive      int64   `json:"alive,omitempty"`
	// Fairness scenarios: P50ms and P99ms above are the bystander's under the floods.
	Fairness *FairnessFigures `json:"fairness,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// FairnessFigures are a fairness run's figures beside the bystander's p50 and p99 under
// the floods (for a Row, the medians of its rounds).
type FairnessFigures struct {
	// MaxMs is the bystander's slowest round trip under the floods.
	MaxMs float64 `json:"max_ms"`
	// AloneP50ms, AloneP99ms and AloneMaxMs are its round trips before the floods.
	AloneP50ms float64 `json:"alone_p50_ms"`
	AloneP99ms float64 `json:"alone_p99_ms"`
	AloneMaxMs float64 `json:"alone_max_ms"`
	// PipelinedRate is the pipelined flood's responses per second; EchoMiBps is the
	// upload flood's echoed MiB per second.
	PipelinedRate float64 `json:"pipelined_per_s"`
	EchoMiBps     float64 `json:"echo_mib_per_s"`
}

// fields lists the figures, for taking their medians one by one.
func (f *FairnessFigures) fields() []*float64 {
	return []*float64{&f.MaxMs, &f.AloneP50ms, &f.AloneP99ms, &f.AloneMaxMs, &f.PipelinedRate, &f.EchoMiBps}
}

// ServerCPU is the server's total CPU seconds.
func (m *Measurement) ServerCPU() float64 { return m.ServerUser + m.ServerSys }

// PerServerCPU is requests per server CPU-second (NaN when unknown).
func (m *Measurement) PerServerCPU() float64 {
	if m.ServerCPU() <= 0 {
		return math.NaN()
	}
	return float64(m.Requests) / m.ServerCPU()
}

// Valid reports whether the run produced a figure worth reporting: no harness error, and
// errors under 1% of requests.
func (m *Measurement) Valid() bool {
	if m.Error != "" {
		return false
	}
	if m.PerConnKiB != 0 || m.RSSKiB != 0 {
		return m.Alive >= int64(m.Conns)*99/100
	}
	return m.Requests > 0 && m.Errors*100 <= m.Requests
}

// Timing is how long each measured interval and its warm-up last.
type Timing struct {
	Duration time.Duration
	Warmup   time.Duration
	// Settle is the wait between opening idle connections and reading RSS.
	Settle time.Duration
}

// Runner runs single measurements. Use one goroutine at a time.
//
// For throughput scenarios a server started for one round stays up for the next rounds of
// the same job group (StopAll ends them), so each server is started once per group, warmed
// up once per scenario, and the rounds alternate between warm servers. Idle jobs start a fresh server
// for every run, so that its baseline RSS is that of a new process, and measure each of
// their steps (10k, then 19k) on it in turn.
type Runner struct {
	Setup  *Setup
	Timing Timing
	// LogDir receives one log file per server (stdout and stderr of every start).
	LogDir string
	// script is WrkScript written to disk.
	script string
	// live are the throughput servers kept up between rounds, by server and variant.
	live map[liveKey]*live
}

type liveKey struct {
	server      string
	pinned, tls bool
}

// live is a running server and where it logs.
type live struct {
	proc   *Proc
	port   int
	log    *os.File
	warmed map[string]bool // scenario IDs the server was warmed up for
}

func (l *live) stop() {
	l.proc.Stop(3 * time.Second)
	l.log.Close()
}

// Prepare writes the wrk script into dir and creates LogDir.
func (r *Runner) Prepare(dir string) error {
	r.script = filepath.Join(dir, "wrk.lua")
	if err := os.WriteFile(r.script, loadgen.WrkScript, 0o644); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	if r.Setup.CertFile == "" {
		cert, key, err := MakeCert(dir)
		if err != nil {
			return err
		}
		r.Setup.CertFile, r.Setup.KeyFile = cert, key
	}
	return os.MkdirAll(r.LogDir, 0o755)
}

// Run measures job j: one Measurement, or one per step of an idle job.
func (r *Runner) Run(ctx context.Context, j Job) []Measurement {
	steps := j.Steps
	if len(steps) == 0 {
		steps = []Scenario{j.Scenario}
	}
	ms := make([]Measurement, len(steps))
	for i, sc := range steps {
		ms[i] = Measurement{Scenario: sc.ID, Server: j.Server.Name, Round: j.Round, Pinned: j.Pinned, Conns: sc.Conns}
	}
	var err error
	if j.Scenario.Family.Idle() {
		err = r.runIdle(ctx, steps, j.Server, j.Pinned, ms)
	} else {
		err = r.runThroughput(ctx, j.Scenario, j.Server, j.Pinned, &ms[0])
	}
	if err != nil {
		for i := range ms {
			ms[i].Error = err.Error()
		}
	}
	return ms
}

// StopAll stops the servers kept up between rounds.
func (r *Runner) StopAll() {
	for k, l := range r.live {
		l.stop()
		delete(r.live, k)
	}
}

// start launches s on a free port with its output appended to its log.
func (r *Runner) start(ctx context.Context, sc Scenario, s *Server, pinned bool) (*live, error) {
	log, err := os.OpenFile(filepath.Join(r.LogDir, s.Name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "=== %s %s pinned=%v\n", time.Now().Format(time.RFC3339), sc.ID, pinned)
	port, err := FreePort()
	if err == nil {
		var proc *Proc
		if proc, err = Launch(ctx, r.Setup, s, port, pinned, sc.TLS, log); err == nil {
			return &live{proc: proc, port: port, log: log, warmed: map[string]bool{}}, nil
		}
	}
	log.Close()
	return nil, err
}

func (r *Runner) runIdle(ctx context.Context, steps []Scenario, s *Server, pinned bool, ms []Measurement) error {
	l, err := r.start(ctx, steps[0], s, pinned)
	if err != nil {
		return err
	}
	defer l.stop()
	if err := r.idle(ctx, steps, l.proc, scheme(steps[0])+addr(l.port), r.Setup.Route(s, steps[0].Family), pinned, ms); err != nil {
		return err
	}
	return exited(l.proc, s)
}

// runThroughput measures on the live server of s, starting and warming it up first if it is
// not running yet. A server that exits is dropped, so the next round starts a new one.
func (r *Runner) runThroughput(ctx context.Context, sc Scenario, s *Server, pinned bool, m *Measurement) error {
	if r.live == nil {
		r.live = map[liveKey]*live{}
	}
	key := liveKey{s.Name, pinned, sc.TLS}
	l := r.live[key]
	if l == nil {
		var err error
		if l, err = r.start(ctx, sc, s, pinned); err != nil {
			return err
		}
		r.live[key] = l
	}
	urlOf := func(f Family) string { return scheme(sc) + addr(l.port) + r.Setup.Route(s, f) }
	if !l.warmed[sc.ID] {
		if err := r.warmup(ctx, sc, urlOf, pinned); err != nil {
			return err
		}
		l.warmed[sc.ID] = true
	}
	err := r.throughput(ctx, sc, l.proc, urlOf, pinned, m)
	if err == nil {
		err = exited(l.proc, s)
	}
	if !l.proc.Alive() {
		l.stop()
		delete(r.live, key)
	}
	return err
}

// scheme is the URL scheme of sc's load ("ws" replaces "http" for WebSocket loads).
func scheme(sc Scenario) string {
	if sc.TLS {
		return "https://"
	}
	return "http://"
}

func exited(p *Proc, s *Server) error {
	if !p.Alive() {
		return fmt.Errorf("grid: %s exited during the run", s.Name)
	}
	return nil
}

// warmup runs the scenario's load for Timing.Warmup without recording it (benchload warms up
// inside the measured process instead).
func (r *Runner) warmup(ctx context.Context, sc Scenario, urlOf func(Family) string, pinned bool) error {
	if sc.Family.Benchload() || r.Timing.Warmup <= 0 {
		return nil
	}
	if _, _, err := loadgen.Exec(ctx, r.loadArgv(sc, urlOf, r.Timing.Warmup, pinned), nil); err != nil {
		return fmt.Errorf("grid: warm-up: %w", err)
	}
	return nil
}

// fairnessAlone is how long benchload fairness times its bystander alone before the
// floods start: thousands of round trips, each about 50 µs.
const fairnessAlone = time.Second

// loadArgv returns the load generator's command line for one interval of d; urlOf gives
// the URL of the server's route for a family.
func (r *Runner) loadArgv(sc Scenario, urlOf func(Family) string, d time.Duration, pinned bool) []string {
	threads := 1
	if !pinned {
		threads = 2
	}
	url := urlOf(sc.Family)
	var argv []string
	switch sc.Family {
	case H2:
		argv = loadgen.H2load{URL: url, Conns: sc.Conns, Streams: sc.Streams, Threads: threads, Duration: d}.Args()
	case WS:
		argv = []string{r.benchload(), "ws", "-url", "ws" + strings.TrimPrefix(url, "http"),
			"-conns", strconv.Itoa(sc.Conns), "-size", strconv.Itoa(sc.MsgSize),
			"-warmup", r.Timing.Warmup.String(), "-duration", d.String()}
	case Broadcast:
		argv = []string{r.benchload(), "broadcast", "-url", "ws" + strings.TrimPrefix(url, "http"),
			"-conns", strconv.Itoa(sc.Conns), "-size", strconv.Itoa(sc.MsgSize),
			"-warmup", r.Timing.Warmup.String(), "-duration", d.String()}
	case Fairness:
		argv = []string{r.benchload(), "fairness", "-url", urlOf(Hello), "-echo-url", urlOf(Post),
			"-pipeline", strconv.Itoa(sc.Pipeline), "-upload", strconv.Itoa(sc.BodySize),
			"-alone", fairnessAlone.String(), "-warmup", r.Timing.Warmup.String(), "-duration", d.String()}
	default:
		argv = loadgen.Wrk{URL: url, Conns: sc.Conns, Threads: threads, Duration: d, Pipeline: sc.Pipeline,
			BodySize: sc.BodySize, Script: r.script}.Args()
	}
	return append(prefixFor(pinned, 1), argv...)
}

func (r *Runner) benchload() string { return filepath.Join(r.Setup.BinDir, "benchload") }

// throughput runs the measured interval, sampling the server's CPU around it.
func (r *Runner) throughput(ctx context.Context, sc Scenario, proc *Proc, urlOf func(Family) string, pinned bool, m *Measurement) error {
	cpu0, cpu1 := proc.CPU(), procstat.CPU{}
	var peak *peakRSS
	onLine := func(line string) {
		switch line {
		case "EVENT start":
			cpu0 = proc.CPU()
			if sc.Family == Broadcast {
				peak = samplePeakRSS(proc)
			}
		case "EVENT end":
			cpu1 = proc.CPU()
			if peak != nil {
				m.PeakRSSKiB = peak.stop()
			}
		}
	}
	out, loadCPU, err := loadgen.Exec(ctx, r.loadArgv(sc, urlOf, r.Timing.Duration, pinned), onLine)
	if peak != nil && m.PeakRSSKiB == 0 {
		m.PeakRSSKiB = peak.stop()
	}
	if cpu1 == (procstat.CPU{}) {
		cpu1 = proc.CPU()
	}
	if err != nil {
		return err
	}
	res, err := parse(sc.Family, out)
	if err != nil {
		return err
	}
	if sc.Family.Benchload() {
		loadCPU = res.CPU // benchload measures itself over the interval only
	}
	fill(m, res, cpu1.Sub(cpu0), loadCPU)
	return nil
}

func parse(f Family, out []byte) (loadgen.Result, error) {
	switch f {
	case H2:
		return loadgen.ParseH2load(out)
	case WS, Broadcast, Fairness:
		return loadgen.ParseBenchload(out)
	}
	return loadgen.ParseWrk(out)
}

func fill(m *Measurement, res loadgen.Result, server, load procstat.CPU) {
	m.Requests, m.Errors = res.Requests, res.Errors
	m.Seconds = res.Duration.Seconds()
	m.Rate = res.Rate()
	m.ServerUser, m.ServerSys = server.User.Seconds(), server.System.Seconds()
	m.LoadCPU = load.Total().Seconds()
	m.P50ms, m.P99ms, m.MeanMs = ms(res.P50), ms(res.P99), ms(res.Mean)
	if f := res.Fairness; f != nil {
		secs := res.Duration.Seconds()
		m.Fairness = &FairnessFigures{MaxMs: ms(f.Max), AloneP50ms: ms(f.AloneP50), AloneP99ms: ms(f.AloneP99), AloneMaxMs: ms(f.AloneMax),
			PipelinedRate: float64(f.Flood.Pipelined) / secs, EchoMiBps: float64(f.Flood.EchoedBytes) / (1 << 20) / secs}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// idle opens the steps' idle connections in turn with one benchload, reads the server's RSS
// once each count is open and has settled, then lets benchload check how many are still
// open. ms[i] receives step i.
func (r *Runner) idle(ctx context.Context, steps []Scenario, proc *Proc, base, path string, pinned bool, ms []Measurement) error {
	time.Sleep(r.Timing.Settle)
	baseRSS := proc.RSS()
	mode := steps[0].Family.IdleMode()
	url := base + path
	if mode == "ws" {
		url = "ws" + strings.TrimPrefix(url, "http")
	}
	counts := make([]string, len(steps))
	for i, st := range steps {
		counts[i] = strconv.Itoa(st.Conns)
	}
	argv := append(prefixFor(pinned, 1), r.benchload(), "idle", "-mode", mode, "-url", url, "-conns", strings.Join(counts, ","))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("grid: start benchload: %w", err)
	}
	rss, out := r.holdIdle(stdin, stdout, proc, len(steps))
	werr := cmd.Wait()
	if werr != nil {
		return fmt.Errorf("grid: benchload idle: %w: %s", werr, strings.TrimSpace(stderr.String()))
	}
	if len(rss) != len(steps) {
		return fmt.Errorf("grid: benchload idle reported %d of %d steps", len(rss), len(steps))
	}
	res, err := loadgen.ParseBenchload(out)
	if err != nil {
		return err
	}
	closed := res.Requests - res.Alive
	for i := range steps {
		m := &ms[i]
		m.RSSBaseKiB, m.RSSKiB = baseRSS, rss[i]
		m.Alive = max(int64(steps[i].Conns)-closed, 0)
		m.LoadCPU = procstat.ChildCPU(cmd.ProcessState).Total().Seconds()
		m.PerConnKiB = float64(m.RSSKiB-m.RSSBaseKiB) / float64(steps[i].Conns)
	}
	return nil
}

// holdIdle answers each "EVENT ready N" by sampling RSS after Settle and releasing benchload
// to the next step (closing its stdin after the last), and returns the samples and the whole
// output.
func (r *Runner) holdIdle(stdin io.WriteCloser, stdout io.Reader, proc *Proc, steps int) ([]int64, []byte) {
	defer stdin.Close()
	sc := bufio.NewScanner(stdout)
	var out strings.Builder
	var rss []int64
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if !strings.HasPrefix(line, "EVENT ready") {
			continue
		}
		time.Sleep(r.Timing.Settle)
		rss = append(rss, proc.RSS())
		io.WriteString(stdin, "next\n")
		if len(rss) == steps {
			stdin.Close()
		}
	}
	return rss, []byte(out.String())
}

// peakRSS samples a server's RSS every 50 ms until stopped and keeps the largest.
type peakRSS struct {
	done chan struct{}
	max  chan int64
}

func samplePeakRSS(p *Proc) *peakRSS {
	s := &peakRSS{done: make(chan struct{}), max: make(chan int64, 1)}
	go func() {
		peak := p.RSS()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				s.max <- max(peak, p.RSS())
				return
			case <-t.C:
				peak = max(peak, p.RSS())
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak in KiB; later calls return 0.
func (s *peakRSS) stop() int64 {
	select {
	case <-s.done:
		return 0
	default:
	}
	close(s.done)
	return <-s.max
}
