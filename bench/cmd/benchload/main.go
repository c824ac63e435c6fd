package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/idleconn"
	"github.com/asgo-dev/asgo/bench/internal/loadgen"
	"github.com/asgo-dev/asgo/bench/internal/procstat"
	"github.com/asgo-dev/asgo/bench/internal/wsload"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchload ws|broadcast|idle|fairness|flood [flags]")
		os.Exit(2)
	}
	procstat.RaiseFileLimit()
	var err error
	switch os.Args[1] {
	case "ws":
		err = runWS(os.Args[2:])
	case "idle":
		err = runIdle(os.Args[2:])
	case "broadcast":
		err = runBroadcast(os.Args[2:])
	case "fairness":
		err = runFairness(os.Args[2:])
	case "flood":
		err = runFlood(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

func runWS(args []string) error {
	fs := flag.NewFlagSet("ws", flag.ExitOnError)
	var cfg wsload.Config
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:8000/ws", "echo endpoint")
	fs.IntVar(&cfg.Conns, "conns", 100, "connections")
	fs.IntVar(&cfg.Size, "size", 64, "message payload bytes")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before measuring")
	fs.DurationVar(&cfg.Duration, "duration", 3*time.Second, "measured interval")
	fs.IntVar(&cfg.Sources, "sources", 8, "loopback source addresses to rotate over")
	fs.Parse(args)
	var cpu procstat.CPU
	cfg.OnPhase = onPhase(&cpu)
	res, err := wsload.Run(context.Background(), cfg)
	if err != nil {
		return err
	}
	return emit(loadgen.Result{
		Requests: res.Messages, Errors: res.Errors, Duration: res.Duration, CPU: cpu,
		P50: res.Latency.Percentile(50), P99: res.Latency.Percentile(99),
	})
}

// runBroadcast measures a room of -conns members, the first publishing (wsload.Broadcast).
// Requests in the result are deliveries: one message received by one member.
func runBroadcast(args []string) error {
	fs := flag.NewFlagSet("broadcast", flag.ExitOnError)
	var cfg wsload.BroadcastConfig
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:8000/chat", "room endpoint")
	fs.IntVar(&cfg.Conns, "conns", 1000, "members, the publisher included")
	fs.IntVar(&cfg.Size, "size", 1024, "message payload bytes")
	fs.IntVar(&cfg.Window, "window", 4, "messages published and not yet with every member")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before measuring")
	fs.DurationVar(&cfg.Duration, "duration", 3*time.Second, "measured interval")
	fs.IntVar(&cfg.Sources, "sources", 8, "loopback source addresses to rotate over")
	fs.Parse(args)
	var cpu procstat.CPU
	cfg.OnPhase = onPhase(&cpu)
	res, err := wsload.Broadcast(context.Background(), cfg)
	if err != nil {
		return err
	}
	return emit(loadgen.Result{
		Requests: res.Delivered, Errors: res.Errors, Duration: res.Duration, CPU: cpu,
		P50: res.Latency.Percentile(50), P99: res.Latency.Percentile(99),
	})
}

// onPhase prints each phase for the harness and sets *cpu to this process's CPU time
// between "start" and "end".
func onPhase(cpu *procstat.CPU) func(string) {
	var start procstat.CPU
	return func(p string) {
		fmt.Println("EVENT", p)
		if p == "start" {
			start = procstat.SelfCPU()
		} else {
			*cpu = procstat.SelfCPU().Sub(start)
		}
	}
}

// runIdle opens connections in steps (-conns 10000,19000): after each step it prints
// "EVENT ready N" and waits for a line on stdin before the next; after the last it checks
// which connections are still open and reports.
func runIdle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	var cfg idleconn.Config
	var mode, counts string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8000/", "URL of the first exchange")
	fs.StringVar(&mode, "mode", "h1", "h1, h2 or ws")
	fs.StringVar(&counts, "conns", "1000", "connection counts to reach in turn, ascending (e.g. 10000,19000)")
	fs.IntVar(&cfg.Sources, "sources", 8, "loopback source addresses to rotate over")
	fs.Parse(args)
	cfg.Mode = idleconn.Mode(mode)
	steps, err := parseSteps(counts)
	if err != nil {
		return err
	}
	start := time.Now()
	in := bufio.NewReader(os.Stdin)
	var sets []*idleconn.Set
	defer func() {
		for _, s := range sets {
			s.Close()
		}
	}()
	open := 0
	for _, n := range steps {
		cfg.Conns = n - open
		set, err := idleconn.Open(context.Background(), cfg)
		sets = append(sets, set)
		if err != nil {
			return fmt.Errorf("%d of %d connections open: %w", open+set.Len(), n, err)
		}
		open = n
		fmt.Println("EVENT ready", n)
		in.ReadString('\n')
	}
	alive := 0
	for _, s := range sets {
		alive += s.Check()
	}
	return emit(loadgen.Result{Requests: int64(open), Alive: int64(alive), Duration: time.Since(start), CPU: procstat.SelfCPU()})
}

func parseSteps(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("-conns wants ascending positive counts, got %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func emit(r loadgen.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	fmt.Printf("BENCHJSON %s\n", b)
	return nil
}
