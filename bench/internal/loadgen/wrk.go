package loadgen

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Wrk describes one wrk run.
type Wrk struct {
	URL      string
	Conns    int
	Threads  int // if zero, 1
	Duration time.Duration
	// Pipeline is the number of requests per write; if zero, 1 (no pipelining).
	Pipeline int
	// BodySize is the POST body size; if zero, GET without a body.
	BodySize int
	// Timeout is wrk's per-request timeout; if zero, 10 s.
	Timeout time.Duration
	// Script is the path of WrkScript written to disk.
	Script string
	// Headers are added to every request ("Name: value").
	Headers []string
}

// Args returns wrk's command line (without any taskset prefix).
func (w Wrk) Args() []string {
	threads := max(w.Threads, 1)
	timeout := w.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	args := []string{"wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(max(w.Conns, threads)),
		"-d", secs(w.Duration), "--timeout", secs(timeout), "-s", w.Script}
	for _, h := range w.Headers {
		args = append(args, "-H", h)
	}
	args = append(args, w.URL, "--")
	args = append(args, "pipeline="+strconv.Itoa(max(w.Pipeline, 1)))
	if w.BodySize > 0 {
		args = append(args, "method=POST", "body="+strconv.Itoa(w.BodySize))
	}
	return args
}

// secs formats d as whole seconds with an "s", at least 1s (wrk's resolution).
func secs(d time.Duration) string {
	return strconv.Itoa(max(int((d+time.Second/2)/time.Second), 1)) + "s"
}

type wrkSummary struct {
	Requests      int64   `json:"requests"`
	DurationUS    int64   `json:"duration_us"`
	ErrorsConnect int64   `json:"errors_connect"`
	ErrorsRead    int64   `json:"errors_read"`
	ErrorsWrite   int64   `json:"errors_write"`
	ErrorsStatus  int64   `json:"errors_status"`
	ErrorsTimeout int64   `json:"errors_timeout"`
	P50US         int64   `json:"p50_us"`
	P99US         int64   `json:"p99_us"`
	MeanUS        float64 `json:"mean_us"`
}

// ParseWrk reads the WRKJSON line printed by WrkScript's done().
func ParseWrk(out []byte) (Result, error) {
	js, ok := findTagged(out, "WRKJSON ")
	if !ok {
		return Result{}, ErrNoSummary
	}
	var s wrkSummary
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return Result{}, fmt.Errorf("loadgen: bad wrk summary: %w", err)
	}
	return Result{
		Requests: s.Requests,
		Duration: time.Duration(s.DurationUS) * time.Microsecond,
		Errors:   s.ErrorsConnect + s.ErrorsRead + s.ErrorsWrite + s.ErrorsStatus + s.ErrorsTimeout,
		P50:      time.Duration(s.P50US) * time.Microsecond,
		P99:      time.Duration(s.P99US) * time.Microsecond,
		Mean:     time.Duration(s.MeanUS * float64(time.Microsecond)),
	}, nil
}
