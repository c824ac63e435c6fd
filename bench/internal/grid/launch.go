package grid

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/procstat"
)

// ErrNotReady is returned when a server does not answer within the start timeout.
var ErrNotReady = errors.New("grid: server did not become ready")

// Proc is a running server: one process, or nginx and the asgo behind it. Each is the
// leader of its own process group, so stopping it also stops the workers it forked.
// CPU, RSS and Alive are safe for concurrent use; Stop is called once, by the owner.
type Proc struct {
	cmds []*child
	dir  string // temporary files (nginx), removed on Stop
}

// child is one started process; done is closed once it has exited and been reaped.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func watch(cmd *exec.Cmd) *child {
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	return c
}

// pids are the leaders whose trees are measured.
func (p *Proc) pids() []int {
	out := make([]int, 0, len(p.cmds))
	for _, c := range p.cmds {
		out = append(out, c.cmd.Process.Pid)
	}
	return out
}

// CPU is the CPU time used so far by every process of the server.
func (p *Proc) CPU() procstat.CPU {
	var sum procstat.CPU
	for _, pid := range p.pids() {
		c, _ := procstat.TreeCPU(pid)
		sum.User += c.User
		sum.System += c.System
	}
	return sum
}

// RSS is the summed resident memory of every process of the server, in KiB.
func (p *Proc) RSS() int64 {
	var sum int64
	for _, pid := range p.pids() {
		r, _ := procstat.TreeRSS(pid)
		sum += r
	}
	return sum
}

// Alive reports whether every process is still running.
func (p *Proc) Alive() bool {
	for _, c := range p.cmds {
		select {
		case <-c.done:
			return false
		default:
		}
	}
	return true
}

// Stop sends SIGTERM to every process group, then SIGKILL to those still running after
// grace, and reaps them.
func (p *Proc) Stop(grace time.Duration) {
	for i := len(p.cmds) - 1; i >= 0; i-- { // the front process (nginx) first
		stopGroup(p.cmds[i], grace)
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

func stopGroup(c *child, grace time.Duration) {
	pgid := c.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.done
	}
	syscall.Kill(-pgid, syscall.SIGKILL) // workers that outlived their master
}

// prefixFor is the taskset prefix of the server (core 0) or load generator (core 1).
func prefixFor(pinned bool, core int) []string {
	if !pinned {
		return nil
	}
	return []string{"taskset", "-c", strconv.Itoa(core)}
}

// start runs argv in its own process group with output appended to log.
func start(argv []string, dir string, log io.Writer) (*exec.Cmd, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("grid: start %s: %w", argv[0], err)
	}
	return cmd, nil
}

// Launch starts server s on port, pinned to core 0 when pinned, with TLS when secure,
// and waits until it answers.
func Launch(ctx context.Context, e *Setup, s *Server, port int, pinned, secure bool, log io.Writer) (*Proc, error) {
	p := &Proc{}
	pre := prefixFor(pinned, 0)
	if s.Kind == KindFront {
		if err := p.launchFront(ctx, e, s, port, pinned, log); err != nil {
			p.Stop(time.Second)
			return nil, err
		}
		return p, nil
	}
	dir := ""
	if s.Kind == KindPython {
		dir = e.PythonDir
	}
	argv := append(pre, s.Args(e, port, pinned)...)
	if secure {
		argv = append(argv, s.TLSArgs(e)...)
	}
	cmd, err := start(argv, dir, log)
	if err != nil {
		return nil, err
	}
	p.cmds = append(p.cmds, watch(cmd))
	if err := waitReady(ctx, p, port, readyPath(e, s), secure); err != nil {
		p.Stop(time.Second)
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return p, nil
}

// readyPath is a path answered with 200, or "" when the server answers only WebSocket.
func readyPath(e *Setup, s *Server) string {
	if s.Supports(Hello) {
		return e.Route(s, Hello)
	}
	return ""
}

// waitReady polls until the server answers GET path with 200 (or accepts a TCP connection
// when path is ""), the process exits, or 30 s pass.
func waitReady(ctx context.Context, p *Proc, port int, path string, secure bool) error {
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // the runner's own self-signed certificate
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	for time.Now().Before(deadline) {
		if !p.Alive() {
			return fmt.Errorf("%w: process exited", ErrNotReady)
		}
		if probe(ctx, client, scheme, port, path) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w within 30s", ErrNotReady)
}

func probe(ctx context.Context, client *http.Client, scheme string, port int, path string) bool {
	if path == "" {
		c, err := net.DialTimeout("tcp", addr(port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", scheme+addr(port)+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("grid: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
