package grid

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Job is one planned run of one server.
type Job struct {
	// Scenario is the scenario measured, or the first step of an idle job.
	Scenario Scenario
	// Steps are, for an idle job, the scenarios of one family in ascending connection count,
	// measured in turn on one server process; nil otherwise.
	Steps  []Scenario
	Server *Server
	Round  int
	Pinned bool
	// Group numbers the jobs that run on the same live servers: one scenario, or the
	// scenarios measured beside each other (Scenario.Beside).
	Group int
}

// IDs names the job's scenarios ("idle-h1-10k+19k" for a two-step idle job).
func (j Job) IDs() string {
	if len(j.Steps) < 2 {
		return j.Scenario.ID
	}
	id := j.Steps[0].ID
	for _, s := range j.Steps[1:] {
		id += "+" + strings.TrimPrefix(s.ID, string(s.Family)+"-")
	}
	return id
}

// PlanConfig chooses what to run.
type PlanConfig struct {
	Scenarios []Scenario
	// Servers restricts every scenario to those of its servers named here (all of them when
	// empty).
	Servers []string
	// Rounds is the number of A B C passes; if zero, 3.
	Rounds int
	// Pinned and Unpinned choose the variants; UnpinnedScenarios limits the unpinned variant
	// to these scenario IDs (all selected ones when empty).
	Pinned, Unpinned  bool
	UnpinnedScenarios []string
}

// Plan returns the jobs in run order: per variant, per scenario, per round, every server in
// turn, so that servers alternate A B C A B C and drift in the machine's state spreads
// evenly over them.
func Plan(cfg PlanConfig) ([]Job, error) {
	rounds := cfg.Rounds
	if rounds <= 0 {
		rounds = 3
	}
	for _, n := range cfg.Servers {
		if _, err := lookup(n); err != nil {
			return nil, err
		}
	}
	var jobs []Job
	for _, pinned := range variants(cfg) {
		for _, group := range groups(cfg.Scenarios) {
			only := cfg.Servers
			if !pinned && len(only) == 0 {
				only = UnpinnedServers
			}
			n := len(jobs)
			if group[0].Family.Idle() {
				servers := groupServers(group, only)
				for round := 1; round <= rounds; round++ {
					for _, s := range servers {
						jobs = append(jobs, job(group, s, round, pinned))
					}
				}
			} else {
				for round := 1; round <= rounds; round++ {
					for _, sc := range group {
						if !pinned && len(cfg.UnpinnedScenarios) > 0 && !slices.Contains(cfg.UnpinnedScenarios, sc.ID) {
							continue
						}
						for _, s := range serversFor(sc, only) {
							jobs = append(jobs, Job{Scenario: sc, Server: s, Round: round, Pinned: pinned})
						}
					}
				}
			}
			if len(jobs) > n {
				group := 1
				if n > 0 {
					group = jobs[n-1].Group + 1
				}
				for i := n; i < len(jobs); i++ {
					jobs[i].Group = group
				}
			}
		}
	}
	return jobs, nil
}

// groups puts each throughput scenario alone, or beside the selected scenario it names
// (Scenario.Beside) and the others that name it, and the idle scenarios of one family
// together, in ascending connection count.
func groups(scs []Scenario) [][]Scenario {
	var out [][]Scenario
	index := map[Family]int{}
	for _, sc := range scs {
		if i := slices.IndexFunc(out, func(g []Scenario) bool {
			return sc.Beside != "" && (g[0].ID == sc.Beside || g[0].Beside == sc.Beside)
		}); i >= 0 {
			out[i] = append(out[i], sc)
			continue
		}
		if i := slices.IndexFunc(out, func(g []Scenario) bool { return g[0].Beside == sc.ID }); i >= 0 {
			out[i] = append([]Scenario{sc}, out[i]...)
			continue
		}
		if i, ok := index[sc.Family]; ok && sc.Family.Idle() {
			out[i] = append(out[i], sc)
			continue
		}
		if sc.Family.Idle() {
			index[sc.Family] = len(out)
		}
		out = append(out, []Scenario{sc})
	}
	for _, g := range out {
		if g[0].Family.Idle() {
			slices.SortStableFunc(g, func(a, b Scenario) int { return a.Conns - b.Conns })
		}
	}
	return out
}

// groupServers is the union of the group's servers, in order of first appearance.
func groupServers(group []Scenario, only []string) []*Server {
	var out []*Server
	for _, sc := range group {
		for _, s := range serversFor(sc, only) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// job is server s's run of an idle group: the steps it takes part in.
func job(group []Scenario, s *Server, round int, pinned bool) Job {
	j := Job{Server: s, Round: round, Pinned: pinned}
	for _, sc := range group {
		if slices.Contains(serversFor(sc, nil), s) {
			j.Steps = append(j.Steps, sc)
		}
	}
	j.Scenario = j.Steps[0]
	return j
}

func variants(cfg PlanConfig) []bool {
	var v []bool
	if cfg.Pinned {
		v = append(v, true)
	}
	if cfg.Unpinned {
		v = append(v, false)
	}
	return v
}

// serversFor returns the scenario's servers in the scenario's order, restricted to only when
// it is not empty.
func serversFor(sc Scenario, only []string) []*Server {
	names := sc.Servers
	if len(only) > 0 {
		names = nil
		for _, n := range sc.Servers {
			if slices.Contains(only, n) {
				names = append(names, n)
			}
		}
	}
	var out []*Server
	for _, n := range names {
		if s := Servers[n]; s != nil && s.SupportsScenario(sc) {
			out = append(out, s)
		}
	}
	return out
}

// Execute runs every job, reporting progress (scenario, round, server, ETA) to progress.
// It stops early, returning what it has, when ctx is cancelled.
func Execute(ctx context.Context, r *Runner, jobs []Job, progress io.Writer) []Measurement {
	out := make([]Measurement, 0, len(jobs))
	started := time.Now()
	for i, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(progress, "[%3d/%d] %-12s round %d %-8s %-11s eta %s ... ", i+1, len(jobs),
			j.IDs(), j.Round, variantName(j.Pinned), j.Server.Name, eta(started, i, len(jobs), r.Timing))
		ms := r.Run(ctx, j)
		for k := range ms {
			if k > 0 {
				fmt.Fprint(progress, "; ")
			}
			fmt.Fprint(progress, brief(&ms[k]))
		}
		fmt.Fprintln(progress)
		out = append(out, ms...)
		if i+1 == len(jobs) || jobs[i+1].Group != j.Group {
			r.StopAll()
		}
	}
	r.StopAll()
	return out
}

func variantName(pinned bool) string {
	if pinned {
		return "pinned"
	}
	return "unpinned"
}

// Estimate is the expected duration of jobs: per throughput run the measured interval (and
// a fairness run's bystander alone before it), and
// per server and job group one start (about 0.6 s, 3 s for Python servers), per server and
// scenario one warm-up (at least 1 s, wrk's resolution); per idle run one settle time per step and one before, about
// 1 s per 4,000 connections to open them, and 2 s of start and stop.
func Estimate(jobs []Job, t Timing) time.Duration {
	var sum time.Duration
	started, warmed := map[string]bool{}, map[string]bool{}
	for _, j := range jobs {
		if j.Scenario.Family.Idle() {
			last := j.Steps[len(j.Steps)-1]
			sum += time.Duration(1+len(j.Steps))*t.Settle + time.Duration(last.Conns)*time.Second/4000 + 2*time.Second
			continue
		}
		sum += t.Duration
		if j.Scenario.Family == Fairness {
			sum += fairnessAlone
		}
		if warm := fmt.Sprint(j.Scenario.ID, j.Server.Name, j.Pinned); !warmed[warm] {
			warmed[warm] = true
			sum += max(t.Warmup, time.Second)
		}
		start := fmt.Sprint(j.Group, j.Server.Name)
		if started[start] {
			continue
		}
		started[start] = true
		sum += 600 * time.Millisecond
		if j.Server.Kind == KindPython {
			sum += 2400 * time.Millisecond
		}
	}
	return sum
}

// eta extrapolates from the jobs done so far, or from the timing before the first.
func eta(started time.Time, done, total int, t Timing) string {
	var per time.Duration
	if done == 0 {
		per = t.Duration + t.Warmup + 2*time.Second
	} else {
		per = time.Since(started) / time.Duration(done)
	}
	return (per * time.Duration(total-done)).Round(time.Second).String()
}

// brief is the one-line outcome shown in the progress display.
func brief(m *Measurement) string {
	switch {
	case m.Error != "":
		return "ERROR " + m.Error
	case m.RSSKiB != 0:
		return fmt.Sprintf("%.2f KiB/conn (%d/%d open)", m.PerConnKiB, m.Alive, m.Conns)
	case m.Fairness != nil:
		return fmt.Sprintf("bystander p99 %.2f ms under flood (%.2f ms alone), %.0f pipelined/s, %.0f MiB/s echoed, server CPU %.0f%%, load CPU %.0f%%",
			m.P99ms, m.Fairness.AloneP99ms, m.Fairness.PipelinedRate, m.Fairness.EchoMiBps, 100*m.ServerCPU()/m.Seconds, 100*m.LoadCPU/m.Seconds)
	}
	return fmt.Sprintf("%.0f/s, server CPU %.0f%%, load CPU %.0f%%, errors %d",
		m.Rate, 100*m.ServerCPU()/m.Seconds, 100*m.LoadCPU/m.Seconds, m.Errors)
}
