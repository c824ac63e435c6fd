package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

var asgoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "asgo-cli-test")
	if err != nil {
		panic(err)
	}
	asgoBin = filepath.Join(dir, "asgo")
	if out, err := exec.Command("go", "build", "-o", asgoBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building asgo: %v\n%s", err, out)
		os.Exit(1)
	}
	if b := os.Getenv("ASGO_TEST_BIN"); b != "" {
		asgoBin = b // measure another build (e.g. an older one) with the same tests
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `asgo serve`.
type proc struct {
	cmd  *exec.Cmd
	addr string
	log  testutil.LogBuffer // asgo's stderr
	done chan error
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

func startAsgo(t *testing.T, args ...string) *proc {
	t.Helper()
	return startAsgoCmd(t, append([]string{"serve", "--bind", "127.0.0.1:0"}, args...)...)
}

// startAsgoCmd runs asgoBin with args and waits until it logs its address.
func startAsgoCmd(t *testing.T, args ...string) *proc {
	t.Helper()
	return startProc(t, exec.Command(asgoBin, args...), nil)
}

// startProc runs cmd (asgo, or a launcher of it) and waits until it logs its address.
// trigger, if not nil, runs once the process started, before the wait (a socket
// activator starts asgo only at the first connection).
func startProc(t *testing.T, cmd *exec.Cmd, trigger func()) *proc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.log.Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				select {
				case addrCh <- m[1]:
				default:
				}
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("asgo log:\n%s", p.logs())
		}
	})
	if trigger != nil {
		trigger()
	}
	select {
	case p.addr = <-addrCh:
	case err := <-p.done:
		t.Fatalf("asgo exited before listening: %v\n%s", err, p.logs())
	case <-time.After(10 * time.Second):
		t.Fatalf("asgo did not start listening:\n%s", p.logs())
	}
	return p
}

func (p *proc) logs() string { return p.log.String() }

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServeDemoRoutes(t *testing.T) {
	p := startAsgo(t)
	if code, body := get(t, p.url("/")); code != 200 || body != "Hello, World!" {
		t.Fatalf("GET / = %d %q", code, body)
	}
	if code, body := get(t, p.url("/stream?n=3")); code != 200 || body != "chunk 0\nchunk 1\nchunk 2\n" {
		t.Fatalf("GET /stream = %d %q", code, body)
	}
	if code, body := get(t, p.url("/big?bytes=100000")); code != 200 || body != strings.Repeat("x", 100000) {
		t.Fatalf("GET /big = %d, %d bytes", code, len(body))
	}
	resp, err := http.Post(p.url("/echo"), "text/plain", strings.NewReader("echo me"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "echo me" {
		t.Fatalf("POST /echo = %q", b)
	}
	if code, body := get(t, p.url("/scope")); code != 200 || !strings.Contains(body, `"http_version"`) {
		t.Fatalf("GET /scope = %d %q", code, body)
	}
}

func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	p := startAsgo(t, "--timeout-graceful-shutdown", "10s")
	const n = 20
	type result struct {
		body  string
		close bool
		err   error
	}
	results := make(chan result, n)
	var inFlight atomic.Int32 // requests whose response has begun
	for i := 0; i < n; i++ {
		go func() {
			resp, err := http.Get(p.url("/stream?n=5&delay=200"))
			if err != nil {
				results <- result{err: err}
				return
			}
			inFlight.Add(1)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- result{string(b), resp.Close, err}
		}()
	}
	testutil.WaitFor(t, 10*time.Second, fmt.Sprintf("%d responses begun", n), func() bool { return inFlight.Load() == n })
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	want := "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n"
	for i := 0; i < n; i++ {
		r := <-results
		if r.err != nil || r.body != want {
			t.Fatalf("in-flight request %d: %q %v", i, r.body, r.err)
		}
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("asgo exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("asgo did not exit after the drain")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if !strings.Contains(p.logs(), "shutting down") {
		t.Fatalf("no shutdown log line:\n%s", p.logs())
	}
}

func TestHelpReadsWell(t *testing.T) {
	out, err := exec.Command(asgoBin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"Usage: asgo serve", "--bind", "--timeout-graceful-shutdown", "--limit-concurrency", "--log-level"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("--help lacks %q:\n%s", want, out)
		}
	}
}

func TestBadFlagExitsNonZero(t *testing.T) {
	err := exec.Command(asgoBin, "serve", "--no-such-flag").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("want exit 2, got %v", err)
	}
}

var _ = context.Background

func TestHTTP2FlagOverCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is required (make deps installs it)")
	}
	on := startAsgo(t, "--h2-max-concurrent-streams", "10")
	out, err := exec.Command(curl, "-sS", "--max-time", "10", "--http2-prior-knowledge", "-w", " %{http_version}", on.url("/")).CombinedOutput()
	if err != nil || string(out) != "Hello, World! 2" {
		t.Fatalf("h2c GET / = %q %v", out, err)
	}
	off := startAsgo(t, "--http2=false")
	out, err = exec.Command(curl, "-sS", "--max-time", "10", "--http2-prior-knowledge", off.url("/")).CombinedOutput()
	if err == nil {
		t.Fatalf("h2c answered with --http2=false: %q", out)
	}
	out, err = exec.Command(curl, "-sS", "--max-time", "10", "-w", " %{http_version}", off.url("/")).CombinedOutput()
	if err != nil || string(out) != "Hello, World! 1.1" {
		t.Fatalf("HTTP/1.1 with --http2=false: %q %v", out, err)
	}
}
