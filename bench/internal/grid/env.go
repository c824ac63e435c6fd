package grid

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/procstat"
)

// Env is the environment header printed above every result.
type Env struct {
	Date      string `json:"date"`
	Host      string `json:"host"`
	Kernel    string `json:"kernel"`
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	LoadAvg   string `json:"loadavg_at_start"`
	FileLimit uint64 `json:"open_file_limit"`
	GoVersion string `json:"go_version"`
	// ASGOGo is the Go version asgo was built with; ASGOCommit the repository's HEAD.
	ASGOGo     string `json:"asgo_go_version"`
	ASGOCommit string `json:"asgo_commit"`
	Pinning    string `json:"pinning"`
	GOMAXPROCS string `json:"gomaxprocs"`
	Timing     string `json:"timing"`
	// Versions maps each library and Debian package to its version.
	Versions map[string]string `json:"versions"`
	Note     string            `json:"note,omitempty"`
	// Contention is the machine-wide busy and hypervisor-stolen CPU shares over the run,
	// set by Finish: anything well above what the benchmark itself uses means noise.
	Contention string `json:"contention,omitempty"`
	// StealShare is the stolen share alone, 0..1.
	StealShare float64 `json:"steal_share"`
	start      procstat.SystemCPU
}

// Finish records the machine's CPU contention since Collect.
func (e *Env) Finish() {
	now, err := procstat.ReadSystemCPU()
	if err != nil {
		return
	}
	busy, steal := now.Shares(e.start)
	e.StealShare = steal
	e.Contention = fmt.Sprintf("machine busy %.0f%%, stolen by the hypervisor %.0f%% of all CPU time during the run", 100*busy, 100*steal)
}

// debPackages are the Debian packages whose versions the header shows.
var debPackages = []string{"wrk", "nghttp2-client", "nginx-light", "python3-uvicorn", "python3-httptools",
	"python3-uvloop", "python3-hypercorn", "daphne", "gunicorn", "uwsgi-core", "python3", "haproxy"}

// Collect gathers the environment of a run.
func Collect(e *Setup, t Timing, rounds int, note string) Env {
	host, _ := os.Hostname()
	_, hard, _ := procstat.FileLimit()
	env := Env{
		Date: time.Now().UTC().Format(time.RFC3339), Host: host, Kernel: firstLine("/proc/sys/kernel/osrelease"),
		CPU: cpuModel(), Cores: runtime.NumCPU(), LoadAvg: firstLine("/proc/loadavg"), FileLimit: hard,
		GoVersion: runtime.Version(),
		Pinning: "pinned: server on core 0 (taskset -c 0), load generator on core 1 (taskset -c 1); " +
			"unpinned: both free on all cores",
		GOMAXPROCS: "pinned servers see 1 CPU (asgo --loops 1, peers one loop/poller); unpinned: all CPUs",
		Timing:     "rounds " + itoa(rounds) + ", warm-up " + t.Warmup.String() + ", measured " + t.Duration.String() + ", idle settle " + t.Settle.String(),
		Versions:   map[string]string{}, Note: note,
	}
	env.start, _ = procstat.ReadSystemCPU()
	env.ASGOGo, env.ASGOCommit = asgoBuild(e.ASGO)
	for _, name := range []string{"gnetraw", "fasthttp", "hertz", "nbio", "gorilla", "gws", "h2c"} {
		addDeps(env.Versions, filepath.Join(e.BinDir, name))
	}
	addDeps(env.Versions, e.ASGO)
	for _, p := range debPackages {
		if v := debVersion(p); v != "" {
			env.Versions["deb:"+p] = v
		}
	}
	return env
}

func itoa(n int) string { return strconv.Itoa(n) }

func firstLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// asgoBuild returns the Go version and VCS revision recorded in the asgo binary, falling back
// to git for the revision (the repository builds with -buildvcs=false).
func asgoBuild(path string) (goVersion, commit string) {
	if path == "" {
		return "", ""
	}
	if bi, err := buildinfo.ReadFile(path); err == nil {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	if commit == "" {
		out, _ := exec.Command("git", "-C", filepath.Dir(path), "rev-parse", "--short", "HEAD").Output()
		commit = strings.TrimSpace(string(out))
	}
	return goVersion, commit
}

// tracked are the modules whose versions matter to the comparison.
var tracked = []string{"github.com/panjf2000/gnet/v2", "github.com/valyala/fasthttp", "github.com/cloudwego/hertz",
	"github.com/cloudwego/netpoll", "github.com/lesismal/nbio", "github.com/gorilla/websocket", "github.com/lxzan/gws",
	"golang.org/x/net", "github.com/gobwas/ws"}

func addDeps(into map[string]string, binary string) {
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return
	}
	for _, d := range bi.Deps {
		for _, t := range tracked {
			if d.Path == t {
				into[d.Path] = d.Version
			}
		}
	}
}

func debVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
