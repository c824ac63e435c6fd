package loadgen

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/fairload"
	"github.com/asgo-dev/asgo/bench/internal/procstat"
)

// WrkScript is the Lua script given to wrk (pipelining, POST bodies, JSON summary).
//
//go:embed wrk.lua
var WrkScript []byte

// ErrNoSummary is returned when a load generator's output lacks the summary it always prints
// on success: the tool failed or was killed.
var ErrNoSummary = errors.New("loadgen: no summary in the load generator's output")

// Result is what one load-generator run measured. Latencies are zero when the tool does not
// report them.
type Result struct {
	// Requests counts completed requests (or echoed WebSocket messages, or open connections).
	Requests int64 `json:"requests"`
	// Duration is the measured interval.
	Duration time.Duration `json:"duration_ns"`
	// Errors counts failed requests, connection errors and non-2xx statuses.
	Errors int64         `json:"errors"`
	P50    time.Duration `json:"p50_ns,omitempty"`
	P99    time.Duration `json:"p99_ns,omitempty"`
	Mean   time.Duration `json:"mean_ns,omitempty"`
	// CPU is the load generator's own CPU time over the run.
	CPU procstat.CPU `json:"cpu"`
	// Alive counts connections still open at the end (idle runs only).
	Alive int64 `json:"alive,omitempty"`
	// Fairness is the rest of a benchload fairness run: P50 and P99 above are its
	// bystander's round trips under the floods.
	Fairness *Fairness `json:"fairness,omitempty"`
}

// Fairness is what benchload fairness measures beside the bystander's p50 and p99 under
// the floods.
type Fairness struct {
	// Max is the bystander's slowest round trip under the floods.
	Max time.Duration `json:"max_ns"`
	// AloneP50, AloneP99 and AloneMax are its round trips before the floods started.
	AloneP50 time.Duration `json:"alone_p50_ns"`
	AloneP99 time.Duration `json:"alone_p99_ns"`
	AloneMax time.Duration `json:"alone_max_ns"`
	// Flood is the floods' work over the measured interval.
	Flood fairload.FloodResult `json:"flood"`
}

// Rate is requests per second of Duration.
func (r Result) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Duration.Seconds()
}

// Exec runs argv, calls onLine for each stdout line as it arrives, and returns the whole
// stdout and the child's CPU time. stderr is kept for the error message.
func Exec(ctx context.Context, argv []string, onLine func(string)) ([]byte, procstat.CPU, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, procstat.CPU{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, procstat.CPU{}, fmt.Errorf("loadgen: start %s: %w", argv[0], err)
	}
	out := readLines(pipe, onLine)
	err = cmd.Wait()
	cpu := procstat.ChildCPU(cmd.ProcessState)
	if err != nil {
		return out, cpu, fmt.Errorf("loadgen: %s: %w: %s", argv[0], err, lastLines(stderr.String(), 5))
	}
	return out, cpu, nil
}

func readLines(r io.Reader, onLine func(string)) []byte {
	var all bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		all.Write(sc.Bytes())
		all.WriteByte('\n')
		if onLine != nil {
			onLine(sc.Text())
		}
	}
	io.Copy(io.Discard, r)
	return all.Bytes()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// findTagged returns the text after the first line starting with tag.
func findTagged(out []byte, tag string) (string, bool) {
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, tag); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// ParseBenchload reads the BENCHJSON line printed by cmd/benchload.
func ParseBenchload(out []byte) (Result, error) {
	js, ok := findTagged(out, "BENCHJSON ")
	if !ok {
		return Result{}, ErrNoSummary
	}
	var r Result
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		return Result{}, fmt.Errorf("loadgen: bad benchload summary: %w", err)
	}
	return r, nil
}
