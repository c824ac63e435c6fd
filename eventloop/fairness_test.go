package eventloop

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// bystander times GET /hello round trips on its own connection until stop is closed.
func bystander(t testing.TB, ts *testServer, stop <-chan struct{}) []time.Duration {
	c := ts.dial(t)
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(c)
	var lat []time.Duration
	for {
		select {
		case <-stop:
			return lat
		default:
		}
		start := time.Now()
		resp := roundTrip(t, c, br, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		if got := body(t, resp); got != "Hello, World!" {
			t.Errorf("bystander got %q", got)
			return lat
		}
		lat = append(lat, time.Since(start))
	}
}

// latency is a bystander's p99 and maximum.
type latency struct{ p99, max time.Duration }

func (l latency) String() string { return fmt.Sprintf("p99 %v max %v", l.p99, l.max) }

func summarize(lat []time.Duration) latency {
	if len(lat) == 0 {
		return latency{}
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return latency{p99: s[len(s)*99/100], max: s[len(s)-1]}
}

// floods are clients that load one connection heavily, each until it is done.
// budgeted marks the floods the turn budget cuts into turns (pipelined requests); an
// upload is bounded by gnet's read size with or without it.
var floods = []struct {
	name     string
	budgeted bool
	run      func(t *testing.T, c net.Conn)
}{
	{"10,000 pipelined requests per write", true, func(t *testing.T, c net.Conn) {
		batch := strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 10000)
		br := bufio.NewReaderSize(c, 64<<10)
		for round := 0; round < 5; round++ {
			go func() { _, _ = io.WriteString(c, batch) }()
			readHellos(t, br, 10000)
		}
	}},
	{"backlog of 100,000 pipelined requests behind a slow response", true, func(t *testing.T, c net.Conn) {
		batch := "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" +
			strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 100000)
		go func() { _, _ = io.WriteString(c, batch) }()
		br := bufio.NewReaderSize(c, 64<<10)
		readResponses(t, br, 1)
		readHellos(t, br, 100000)
	}},
	{"64 MiB upload", false, func(t *testing.T, c net.Conn) {
		const size = 64 << 20
		go func() {
			_, _ = fmt.Fprintf(c, "POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
			chunk := make([]byte, 1<<20)
			for i := 0; i < size/len(chunk); i++ {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
		readResponses(t, bufio.NewReader(c), 1)
	}},
}

// helloLen is the length of a response to GET /hello (its Date has a fixed length).
var helloLen = len("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 GMT\r\nServer: asgo\r\n\r\nHello, World!")

// readHellos reads n responses to GET /hello by their length, so that the flooding
// client costs little CPU beside the server on a small machine.
func readHellos(t *testing.T, br *bufio.Reader, n int) {
	if _, err := io.CopyN(io.Discard, br, int64(n*helloLen)); err != nil {
		t.Errorf("flood responses: %v", err)
	}
}

// readResponses reads n responses and drops them.
func readResponses(t *testing.T, br *bufio.Reader, n int) {
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Errorf("flood response %d: %v", i, err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// runFloodProcess runs the flood from a child process (this test binary again), so
// that the flooding client's CPU does not delay the bystander's goroutine in this
// process: what is measured is the server's loop, not Go's scheduler.
func runFloodProcess(t testing.TB, ts *testServer, flood func(*testing.T, net.Conn)) {
	name := ""
	for _, f := range floods {
		if reflect.ValueOf(f.run).Pointer() == reflect.ValueOf(flood).Pointer() {
			name = f.name
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFloodHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "ASGO_FLOOD_ADDR="+ts.addr, "ASGO_FLOOD="+name)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "flood done") {
		t.Errorf("flood process: %v\n%s", err, out)
	}
}

// TestFloodHelperProcess is the flooding client of TestFloodDoesNotStallBystander when
// run as its child process; otherwise it does nothing.
func TestFloodHelperProcess(t *testing.T) {
	addr, name := os.Getenv("ASGO_FLOOD_ADDR"), os.Getenv("ASGO_FLOOD")
	if addr == "" {
		return
	}
	for _, f := range floods {
		if f.name == name {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			f.run(t, c)
			c.Close()
			fmt.Println("flood done")
			return
		}
	}
	t.Fatalf("no flood %q", name)
}

// measureBystander returns the bystander's latencies while flood runs on another
// connection of the same loop (flood nil: alone, for as long as minDur).
func measureBystander(t testing.TB, ts *testServer, flood func(*testing.T, net.Conn), minDur time.Duration) []time.Duration {
	stop := make(chan struct{})
	var lat []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lat = bystander(t, ts, stop)
	}()
	if flood != nil {
		runFloodProcess(t, ts, flood)
	} else {
		time.Sleep(minDur)
	}
	close(stop)
	wg.Wait()
	return lat
}

// TestFloodDoesNotStallBystander: while one client floods (pipelined requests, a
// backlog released at once, a large upload), a hello on another connection of the
// same loop keeps its latency bounded: its p99 with the flood on stays within a
// multiple of its p99 with the flood off, and for pipelined floods below its p99 on a
// server without the turn budget. Both clients share the one loop (Loops: 1); the
// flood comes from a child process.
func TestFloodDoesNotStallBystander(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	cfg := Config{Loops: 1, MaxPipelinedBytes: 8 << 20}
	ts := startServer(t, cfg, nil)
	saved := turnRequests
	turnRequests = 1 << 30 // a server without the budget: a turn answers all it has
	unboundedTS := startServer(t, cfg, nil)
	turnRequests = saved
	for _, f := range floods {
		t.Run(f.name, func(t *testing.T) {
			// Timing on a shared machine: a bad attempt is tried again (3 in all).
			var msg string
			for attempt := 0; attempt < 3; attempt++ {
				off := summarize(measureBystander(t, ts, nil, 300*time.Millisecond))
				on := summarize(measureBystander(t, ts, f.run, 0))
				unbounded := summarize(measureBystander(t, unboundedTS, f.run, 0))
				t.Logf("bystander: flood off %v; on %v; on without the turn budget %v", off, on, unbounded)
				msg = ""
				switch {
				case on.p99 > 100*off.p99:
					msg = fmt.Sprintf("p99 with the flood %v > 100x without %v", on.p99, off.p99)
				case f.budgeted && on.p99 >= unbounded.p99:
					msg = fmt.Sprintf("p99 with the flood %v, not below the server without the turn budget %v", on.p99, unbounded.p99)
				}
				if t.Failed() || msg == "" {
					break
				}
			}
			if msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

// BenchmarkBystanderDuringFlood is the fairness scenario as figures: for each flood,
// the bystander's p99 alone, beside the flood, and beside the flood on a server
// without the turn budget (run with -benchtime 1x: one measurement per flood).
func BenchmarkBystanderDuringFlood(b *testing.B) {
	cfg := Config{Loops: 1, MaxPipelinedBytes: 8 << 20}
	ts := startServer(b, cfg, nil)
	saved := turnRequests
	turnRequests = 1 << 30
	unboundedTS := startServer(b, cfg, nil)
	turnRequests = saved
	for _, f := range floods {
		b.Run(f.name, func(b *testing.B) {
			var off, on, unbounded latency
			for i := 0; i < b.N; i++ {
				off = summarize(measureBystander(b, ts, nil, 300*time.Millisecond))
				on = summarize(measureBystander(b, ts, f.run, 0))
				unbounded = summarize(measureBystander(b, unboundedTS, f.run, 0))
			}
			b.ReportMetric(float64(off.p99.Microseconds()), "p99-alone-µs")
			b.ReportMetric(float64(on.p99.Microseconds()), "p99-flood-µs")
			b.ReportMetric(float64(unbounded.p99.Microseconds()), "p99-flood-nobudget-µs")
			b.ReportMetric(float64(on.max.Microseconds()), "max-flood-µs")
			b.ReportMetric(float64(unbounded.max.Microseconds()), "max-flood-nobudget-µs")
		})
	}
}
