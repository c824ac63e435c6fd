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
var floods = []struct {
	name string
	run  func(t *testing.T, c net.Conn)
}{
	{"10,000 pipelined requests per write", func(t *testing.T, c net.Conn) {
		batch := strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 10000)
		br := bufio.NewReaderSize(c, 64<<10)
		for round := 0; round < 5; round++ {
			go func() { _, _ = io.WriteString(c, batch) }()
			readHellos(t, br, 10000)
		}
	}},
	{"backlog of 100,000 pipelined requests behind a slow response", func(t *testing.T, c net.Conn) {
		batch := "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" +
			strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 100000)
		go func() { _, _ = io.WriteString(c, batch) }()
		br := bufio.NewReaderSize(c, 64<<10)
		readResponses(t, br, 1)
		readHellos(t, br, 100000)
	}},
	{"64 MiB upload", func(t *testing.T, c net.Conn) {
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

// measureBystander returns the latencies of a bystander on by while flood runs
// against target (flood nil: the bystander alone, for minDur).
func measureBystander(t testing.TB, by, target *testServer, flood func(*testing.T, net.Conn), minDur time.Duration) []time.Duration {
	stop := make(chan struct{})
	var lat []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lat = bystander(t, by, stop)
	}()
	if flood != nil {
		runFloodProcess(t, target, flood)
	} else {
		time.Sleep(minDur)
	}
	close(stop)
	wg.Wait()
	return lat
}

// fairnessServers are the servers of the fairness scenario, one loop each: the
// bystander's, another one (the flood aimed there loads the machine as much, without
// sharing the bystander's loop), and one without the turn budget.
func fairnessServers(t testing.TB) (ts, other, unbounded *testServer) {
	cfg := Config{Loops: 1, MaxPipelinedBytes: 8 << 20}
	ts, other = startServer(t, cfg, nil), startServer(t, cfg, nil)
	saved := turnRequests
	turnRequests = 1 << 30 // a turn answers all it has
	unbounded = startServer(t, cfg, nil)
	turnRequests = saved
	return ts, other, unbounded
}

// fairness is one measurement of the scenario: the bystander's latency alone, with the
// flood on another loop (off), on its own loop (on), and on its own loop of a server
// without the turn budget.
type fairness struct{ alone, off, on, unbounded latency }

func measureFairness(t testing.TB, ts, other, unboundedTS *testServer, flood func(*testing.T, net.Conn)) fairness {
	return fairness{
		alone:     summarize(measureBystander(t, ts, nil, nil, 300*time.Millisecond)),
		off:       summarize(measureBystander(t, ts, other, flood, 0)),
		on:        summarize(measureBystander(t, ts, ts, flood, 0)),
		unbounded: summarize(measureBystander(t, unboundedTS, unboundedTS, flood, 0)),
	}
}

// TestFloodDoesNotStallBystander: while one client floods (pipelined requests, a
// backlog released at once, a large upload), a hello on another connection of the
// same loop (Loops: 1) keeps its latency: its p99 with the flood on its loop stays
// within a small multiple of its p99 with the same flood on another loop of the
// process (same load on the machine, loop not shared). Its latency alone and on a
// server without the turn budget are logged beside. The flood comes from a child
// process, so that the flooding client's CPU does not stand in Go's run queue.
func TestFloodDoesNotStallBystander(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	ts, other, unboundedTS := fairnessServers(t)
	for _, f := range floods {
		t.Run(f.name, func(t *testing.T) {
			// Timing on a shared machine: a bad attempt is tried again (3 in all).
			var msg string
			for attempt := 0; attempt < 3; attempt++ {
				m := measureFairness(t, ts, other, unboundedTS, f.run)
				t.Logf("bystander: alone %v; flood on another loop %v; flood on its loop %v; "+
					"flood on its loop without the turn budget %v", m.alone, m.off, m.on, m.unbounded)
				msg = ""
				// Under the race detector a turn of the loop (128 pipelined requests) takes
				// about 6 ms by itself, so the bystander's p99 measures the detector: the
				// floods still run (for races), the ratio is checked by the plain run.
				if !raceEnabled && m.on.p99 > 5*m.off.p99 {
					msg = fmt.Sprintf("p99 with the flood on the bystander's loop %v > 5x with it on another loop %v", m.on.p99, m.off.p99)
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

// BenchmarkBystanderDuringFlood is the fairness scenario as figures (run with
// -benchtime 1x: one measurement per flood; see TestFloodDoesNotStallBystander).
func BenchmarkBystanderDuringFlood(b *testing.B) {
	ts, other, unboundedTS := fairnessServers(b)
	for _, f := range floods {
		b.Run(f.name, func(b *testing.B) {
			var m fairness
			for i := 0; i < b.N; i++ {
				m = measureFairness(b, ts, other, unboundedTS, f.run)
			}
			b.ReportMetric(float64(m.alone.p99.Microseconds()), "p99-alone-µs")
			b.ReportMetric(float64(m.off.p99.Microseconds()), "p99-flood-other-loop-µs")
			b.ReportMetric(float64(m.on.p99.Microseconds()), "p99-flood-µs")
			b.ReportMetric(float64(m.unbounded.p99.Microseconds()), "p99-flood-nobudget-µs")
			b.ReportMetric(float64(m.on.max.Microseconds()), "max-flood-µs")
			b.ReportMetric(float64(m.unbounded.max.Microseconds()), "max-flood-nobudget-µs")
		})
	}
}
