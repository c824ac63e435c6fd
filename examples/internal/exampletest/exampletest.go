// Package exampletest builds, starts and stops the example programs in their tests: each
// example's main_test.go builds its package into a temporary directory, starts it with
// --bind 127.0.0.1:0, reads the bound address from the "listening" log line, talks to it
// with real clients and stops it with SIGTERM, expecting exit status 0.
package exampletest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// Timeout bounds every wait of this package: the start, a log line, the exit.
const Timeout = 20 * time.Second

// Build compiles the main package in the test's working directory (the example's own
// directory) into t.TempDir() and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "example")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Server is a running example program.
type Server struct {
	// Addr is the bound address, "127.0.0.1:PORT"; URL is "http://" + Addr.
	Addr, URL string

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result, set before done is closed

	mu    sync.Mutex
	lines []string      // every stderr line so far
	grew  chan struct{} // closed and replaced when lines grows
}

var listening = regexp.MustCompile(`msg=listening addr=(\S+)`)

// Start runs bin --bind 127.0.0.1:0 with args and env (KEY=VALUE, added to the
// test's environment), and waits for its "listening" log line. The process is killed
// when the test ends if it is still running.
func Start(t testing.TB, bin string, env []string, args ...string) *Server {
	t.Helper()
	s := StartNoWait(t, bin, env, args...)
	m := s.WaitLog(listening)
	s.Addr = m[1]
	s.URL = "http://" + s.Addr
	return s
}

// StartNoWait starts bin like Start but returns at once, for programs that are
// expected to fail before they listen.
func StartNoWait(t testing.TB, bin string, env []string, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--bind", "127.0.0.1:0", "--timeout-graceful-shutdown", "5s"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, cmd: cmd, done: make(chan struct{}), grew: make(chan struct{})}
	logsRead := make(chan struct{})
	go func() {
		defer close(logsRead)
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			close(s.grew)
			s.grew = make(chan struct{})
			s.mu.Unlock()
		}
	}()
	go func() {
		<-logsRead // Wait closes the pipe: read it to the end first
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("the program's log:\n%s", strings.Join(s.Logs(), "\n"))
		}
	})
	return s
}

// Logs returns the program's stderr lines so far.
func (s *Server) Logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// WaitLog waits until a log line matches re and returns its submatches. It fails the
// test when none does within Timeout or the program exits first.
func (s *Server) WaitLog(re *regexp.Regexp) []string {
	s.t.Helper()
	deadline := time.After(Timeout)
	for seen := 0; ; {
		s.mu.Lock()
		lines, grew := s.lines, s.grew
		s.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m
			}
		}
		select {
		case <-grew:
		case <-s.done:
			s.mu.Lock()
			n := len(s.lines)
			s.mu.Unlock()
			if n == seen {
				s.t.Fatalf("the program exited (%v) without logging a line matching %q", s.err, re)
			}
		case <-deadline:
			s.t.Fatalf("no log line matching %q within %v", re, Timeout)
		}
	}
}

// Wait waits for the program to exit and returns cmd.Wait's error (nil for status 0).
func (s *Server) Wait() error {
	s.t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(Timeout):
		s.t.Fatalf("the program did not exit within %v", Timeout)
		return nil
	}
}

// Stop sends SIGTERM and fails the test unless the program exits with status 0.
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if err := s.Wait(); err != nil {
		s.t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
}

// Curl runs curl -sS --max-time 10 with args and returns its standard output; it fails
// the test when curl fails.
func Curl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := CurlErr(args...)
	if err != nil {
		t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// CurlErr runs curl -sS --max-time 10 with args and returns its output (standard error
// included when it fails) and error.
func CurlErr(args ...string) (string, error) {
	path, err := exec.LookPath("curl")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, append([]string{"-sS", "--max-time", "10"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

// HTTPVersions are the curl flags of the protocols every HTTP example is checked over:
// HTTP/1.1 and HTTP/2 cleartext with prior knowledge.
var HTTPVersions = []string{"--http1.1", "--http2-prior-knowledge"}

// WaitFor polls cond until it holds, failing t with what after timeout (the module's
// one wait helper, for the examples' tests).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, timeout, what, cond)
}
