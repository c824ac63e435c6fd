package loadgen

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// H2load describes one h2load run over cleartext HTTP/2 with prior knowledge.
type H2load struct {
	URL      string
	Conns    int
	Streams  int // concurrent streams per connection (-m)
	Threads  int // if zero, 1
	Duration time.Duration
}

// Args returns h2load's command line.
func (h H2load) Args() []string {
	return []string{"h2load", "-c", strconv.Itoa(h.Conns), "-m", strconv.Itoa(h.Streams),
		"-t", strconv.Itoa(max(h.Threads, 1)), "-D", strconv.Itoa(max(int(h.Duration.Round(time.Second)/time.Second), 1)), h.URL}
}

var (
	h2Finished = regexp.MustCompile(`finished in ([0-9.]+)(s|ms), ([0-9.]+) req/s`)
	h2Requests = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
	h2Time     = regexp.MustCompile(`time for request:\s+(\S+)\s+(\S+)\s+(\S+)`)
)

// ParseH2load reads h2load's summary. h2load reports min, max and mean latency but no
// percentiles, so only Mean is set.
func ParseH2load(out []byte) (Result, error) {
	fin := h2Finished.FindSubmatch(out)
	req := h2Requests.FindSubmatch(out)
	if fin == nil || req == nil {
		return Result{}, ErrNoSummary
	}
	d, _ := strconv.ParseFloat(string(fin[1]), 64)
	unit := time.Second
	if string(fin[2]) == "ms" {
		unit = time.Millisecond
	}
	var r Result
	r.Duration = time.Duration(d * float64(unit))
	succeeded := atoi(req[4])
	r.Errors = atoi(req[5]) + atoi(req[6]) + atoi(req[7])
	r.Requests = succeeded
	if st := h2Status.FindSubmatch(out); st != nil {
		non2xx := atoi(st[2]) + atoi(st[3]) + atoi(st[4])
		r.Errors += non2xx
		r.Requests = atoi(st[1])
	}
	if tm := h2Time.FindSubmatch(out); tm != nil {
		mean, err := parseH2Duration(string(tm[3]))
		if err != nil {
			return Result{}, err
		}
		r.Mean = mean
	}
	return r, nil
}

func atoi(b []byte) int64 {
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

// parseH2Duration parses h2load's "1.23ms", "850us", "2.01s".
func parseH2Duration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("loadgen: bad h2load duration %q", s)
	}
	return d, nil
}
