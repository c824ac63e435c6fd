package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/fairload"
	"github.com/asgo-dev/asgo/bench/internal/loadgen"
	"github.com/asgo-dev/asgo/bench/internal/procstat"
)

// floodFlags are the flags benchload fairness and benchload flood share.
func floodFlags(fs *flag.FlagSet, cfg *fairload.FloodConfig) {
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8000/", "hello route: the bystander's, and the pipelined flood's")
	fs.StringVar(&cfg.EchoURL, "echo-url", "http://127.0.0.1:8000/echo", "echo route: the upload flood's")
	fs.IntVar(&cfg.Pipeline, "pipeline", 10000, "requests per write of the pipelined flood")
	fs.Int64Var(&cfg.Upload, "upload", 64<<20, "bytes per upload of the upload flood")
}

// runFairness times the bystander alone for -alone, then starts the floods in a child
// process (benchload flood), lets them warm up for -warmup and measures the bystander
// under them for -duration, between "EVENT start" and "EVENT end". Requests in the result
// count every request answered in that interval; the CPU time is this process's and the
// child's over it.
func runFairness(args []string) error {
	fs := flag.NewFlagSet("fairness", flag.ExitOnError)
	var cfg fairload.FloodConfig
	floodFlags(fs, &cfg)
	alone := fs.Duration("alone", time.Second, "bystander alone, measured before the floods start")
	warmup := fs.Duration("warmup", time.Second, "floods running before measuring")
	duration := fs.Duration("duration", 3*time.Second, "measured interval under the floods")
	fs.Parse(args)
	ctx := context.Background()
	by, err := fairload.StartBystander(ctx, cfg.URL)
	if err != nil {
		return err
	}
	time.Sleep(*alone)
	by.EndAlone()
	flood, err := startFloodProcess(ctx, cfg)
	if err != nil {
		by.Stop()
		return err
	}
	time.Sleep(*warmup)
	var cpu procstat.CPU
	phase := onPhase(&cpu)
	by.StartFlood()
	flood.send("start")
	phase("start")
	start := time.Now()
	time.Sleep(*duration)
	phase("end")
	elapsed := time.Since(start)
	byAlone, byFlood, berr := by.Stop()
	floodRes, ferr := flood.stop()
	if err := errors.Join(berr, ferr); err != nil {
		return err
	}
	work := floodRes.Fairness.Flood
	return emit(loadgen.Result{
		Requests: int64(byFlood.Count()) + work.Pipelined + work.Uploads,
		Duration: elapsed,
		CPU:      cpu.Add(floodRes.CPU),
		P50:      byFlood.Percentile(50), P99: byFlood.Percentile(99),
		Fairness: &loadgen.Fairness{Max: byFlood.Percentile(100),
			AloneP50: byAlone.Percentile(50), AloneP99: byAlone.Percentile(99), AloneMax: byAlone.Percentile(100),
			Flood: work},
	})
}

// runFlood is benchload fairness's child: it floods, prints "EVENT ready" once both
// connections are open, measures from a "start" line on stdin, and stops at an "end"
// line (or EOF), reporting its work and CPU time in between.
func runFlood(args []string) error {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	var cfg fairload.FloodConfig
	floodFlags(fs, &cfg)
	fs.Parse(args)
	flood, err := fairload.StartFlood(context.Background(), cfg)
	if err != nil {
		return err
	}
	fmt.Println("EVENT ready")
	var cpu procstat.CPU
	phase := onPhase(&cpu)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() && in.Text() != "end" {
		if in.Text() == "start" {
			flood.Measure()
			phase("start")
		}
	}
	phase("end")
	res, err := flood.Stop()
	if err != nil {
		return err
	}
	return emit(loadgen.Result{Requests: res.Pipelined + res.Uploads, CPU: cpu, Fairness: &loadgen.Fairness{Flood: res}})
}

// floodProcess is a running benchload flood.
type floodProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
}

// startFloodProcess starts benchload flood (this binary) and waits until its floods run.
func startFloodProcess(ctx context.Context, cfg fairload.FloodConfig) (*floodProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &floodProcess{cmd: exec.CommandContext(ctx, self, "flood", "-url", cfg.URL, "-echo-url", cfg.EchoURL,
		"-pipeline", strconv.Itoa(cfg.Pipeline), "-upload", strconv.FormatInt(cfg.Upload, 10))}
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.stdout = bufio.NewReader(out)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("flood process: %w", err)
	}
	if line, err := p.stdout.ReadString('\n'); err != nil || strings.TrimSpace(line) != "EVENT ready" {
		p.stdin.Close()
		return nil, p.failed(p.cmd.Wait())
	}
	return p, nil
}

func (p *floodProcess) send(line string) { io.WriteString(p.stdin, line+"\n") }

// stop ends the floods and returns what the process reported.
func (p *floodProcess) stop() (loadgen.Result, error) {
	p.send("end")
	p.stdin.Close()
	out, _ := io.ReadAll(p.stdout)
	if err := p.cmd.Wait(); err != nil {
		return loadgen.Result{}, p.failed(err)
	}
	res, err := loadgen.ParseBenchload(out)
	if err == nil && res.Fairness == nil {
		err = fmt.Errorf("flood process: no flood figures in %q", out)
	}
	return res, err
}

func (p *floodProcess) failed(err error) error {
	return fmt.Errorf("flood process: %v: %s", err, strings.TrimSpace(p.stderr.String()))
}
