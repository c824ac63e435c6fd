package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// Signals and processes against the real binary: SIGUSR2 zero-downtime upgrades under
// load, failed upgrades, SIGHUP reloads and --workers.

// lproc is an asgo process whose stderr goes to a file: the processes an upgrade
// starts inherit it and outlive the first one, so a pipe would not end with it.
type lproc struct {
	cmd     *exec.Cmd
	logPath string
	done    chan error
}

func startLogged(t testing.TB, bin string, args ...string) *lproc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "asgo.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // cleanup ends the whole group
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &lproc{cmd: cmd, logPath: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("asgo log:\n%s", p.logs())
		}
	})
	p.waitLog(t, "msg=listening", 1)
	return p
}

func (p *lproc) logs() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// waitLog waits until the log holds n lines containing s.
func (p *lproc) waitLog(t testing.TB, s string, n int) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, fmt.Sprintf("%d log lines with %q", n, s), func() bool {
		return strings.Count(p.logs(), s) >= n
	})
}

func (p *lproc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// waitExit waits for the first process's exit and checks its status is 0.
func (p *lproc) waitExit(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("asgo exited with %v", err)
		}
	case <-time.After(d):
		t.Fatalf("asgo did not exit within %v", d)
	}
}

var readyPidRE = regexp.MustCompile(`new process is ready.* pid=(\d+)`)

// newPid returns the pid of the process the n-th upgrade started.
func (p *lproc) newPid(t *testing.T, n int) int {
	t.Helper()
	m := readyPidRE.FindAllStringSubmatch(p.logs(), -1)
	if len(m) < n {
		t.Fatalf("no ready line for upgrade %d", n)
	}
	pid, _ := strconv.Atoi(m[n-1][1])
	return pid
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// loadStats counts what a load client saw.
type loadStats struct {
	ok, non2xx, failed, closes atomic.Int64
	mu                         sync.Mutex
	errs                       []string
}

func (s *loadStats) fail(err error) {
	s.failed.Add(1)
	s.mu.Lock()
	if len(s.errs) < 10 {
		s.errs = append(s.errs, err.Error())
	}
	s.mu.Unlock()
}

func (s *loadStats) String() string {
	return fmt.Sprintf("%d ok, %d non-2xx, %d failed (%v), %d closes with Connection: close",
		s.ok.Load(), s.non2xx.Load(), s.failed.Load(), s.errs, s.closes.Load())
}

// runLoad runs keepAlive connections sending requests back to back, plus fresh
// clients opening a connection per request, until stop is closed. A keep-alive
// connection may end only after a response with Connection: close; anything else
// (a refused dial, a reset, EOF before a response) is a failed request.
func runLoad(network, addr string, keepAlive, fresh int, stop <-chan struct{}) (*loadStats, *sync.WaitGroup) {
	s := &loadStats{}
	var wg sync.WaitGroup
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	closeReq := []byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	client := func(perRequest bool) {
		defer wg.Done()
		var c net.Conn
		var br *bufio.Reader
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if c == nil {
				var err error
				if c, err = net.DialTimeout(network, addr, 5*time.Second); err != nil {
					s.fail(err)
					c = nil
					time.Sleep(10 * time.Millisecond)
					continue
				}
				br = bufio.NewReader(c)
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			r := req
			if perRequest {
				r = closeReq
			}
			_, err := c.Write(r)
			var resp *http.Response
			if err == nil {
				resp, err = http.ReadResponse(br, nil)
			}
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err != nil {
				s.fail(err)
				c.Close()
				c = nil
				continue
			}
			if resp.StatusCode/100 != 2 {
				s.non2xx.Add(1)
			} else {
				s.ok.Add(1)
			}
			if resp.Close {
				if !perRequest {
					s.closes.Add(1)
				}
				c.Close()
				c = nil
			}
		}
	}
	for range keepAlive {
		wg.Add(1)
		go client(false)
	}
	for range fresh {
		wg.Add(1)
		go client(true)
	}
	return s, &wg
}

// wsOpen opens a WebSocket echo client on network/addr and checks one echo.
func wsOpen(t *testing.T, network, addr string) *wsClient {
	t.Helper()
	a := addr
	if network == "unix" {
		a = "unix:" + addr
	}
	ws := wsDial(t, a, "/ws")
	if err := ws.writeFrame(wsOpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	ws.expectMessage(t, wsOpText, []byte("hi"))
	return ws
}

func TestUpgradeZeroDowntime(t *testing.T) {
	for _, tc := range []struct{ name, network string }{{"bind", "tcp"}, {"uds", "unix"}, {"fd", "tcp"}, {"workers", "tcp"}} {
		t.Run(tc.name, func(t *testing.T) {
			var p *lproc
			var addr string
			switch tc.name {
			case "bind":
				addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
				p = startLogged(t, asgoBin, "serve", "--bind", addr, "--timeout-keep-alive", "1s")
			case "workers": // the supervisor upgrades: a new one with new workers
				addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
				p = startLogged(t, asgoBin, "serve", "--bind", addr, "--timeout-keep-alive", "1s", "--workers", "2", "--loops", "1")
				p.waitLog(t, "all workers ready", 1)
			case "uds":
				addr = filepath.Join(t.TempDir(), "asgo.sock")
				p = startLogged(t, asgoBin, "serve", "--uds", addr, "--timeout-keep-alive", "1s")
			case "fd":
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				f, _ := ln.(*net.TCPListener).File()
				ln.Close()
				logPath := filepath.Join(t.TempDir(), "asgo.log")
				lf, _ := os.Create(logPath)
				cmd := exec.Command(asgoBin, "serve", "--fd", "3", "--timeout-keep-alive", "1s")
				cmd.ExtraFiles = []*os.File{f}
				cmd.Stderr = lf
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				f.Close()
				lf.Close()
				p = &lproc{cmd: cmd, logPath: logPath, done: make(chan error, 1)}
				go func() { p.done <- cmd.Wait() }()
				t.Cleanup(func() {
					_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					if t.Failed() {
						t.Logf("asgo log:\n%s", p.logs())
					}
				})
				p.waitLog(t, "msg=listening", 1)
			}
			wsOld := wsOpen(t, tc.network, addr)
			stop := make(chan struct{})
			stats, wg := runLoad(tc.network, addr, 6, 2, stop)
			time.Sleep(500 * time.Millisecond)
			before := stats.ok.Load()
			p.signal(t, syscall.SIGUSR2)
			p.waitLog(t, "new process is ready", 1)
			newPid := p.newPid(t, 1)
			// The old process's WebSocket gets 1001 (going away) in its drain.
			_ = wsOld.conn.SetDeadline(time.Now().Add(10 * time.Second))
			op, payload, err := wsOld.readMessage()
			if err != nil || op != wsOpClose || len(payload) < 2 || binary.BigEndian.Uint16(payload) != 1001 {
				t.Errorf("old WebSocket: opcode %#x payload %q err %v; want close 1001", op, payload, err)
			}
			_ = wsOld.writeFrame(wsOpClose, payload[:min(2, len(payload))]) // the closing handshake
			p.waitExit(t, 15*time.Second)
			time.Sleep(500 * time.Millisecond) // the load goes on against the new process alone
			close(stop)
			wg.Wait()
			t.Logf("%s: %s; %d before the upgrade", tc.name, stats, before)
			if stats.failed.Load() != 0 || stats.non2xx.Load() != 0 {
				t.Errorf("requests failed during the upgrade: %s", stats)
			}
			if stats.ok.Load() < before+100 {
				t.Errorf("too few requests after the upgrade: %s (%d before)", stats, before)
			}
			if !alive(newPid) {
				t.Fatalf("the new process %d is not running", newPid)
			}
			// It serves: new requests and a reconnected WebSocket.
			ws := wsOpen(t, tc.network, addr)
			ws.closeHandshake(t)
			if tc.network == "unix" {
				if _, err := os.Lstat(addr); err != nil {
					t.Errorf("the socket file is gone after the upgrade: %v", err)
				}
			}
			_ = syscall.Kill(newPid, syscall.SIGTERM)
			testutil.WaitFor(t, 15*time.Second, "the new process's exit", func() bool { return !alive(newPid) })
			if tc.network == "unix" {
				if _, err := os.Lstat(addr); !os.IsNotExist(err) {
					t.Errorf("the new process left its socket file: %v", err)
				}
			}
		})
	}
}

// TestUpgradeFailureKeepsServing installs a broken program over the binary (one that
// exits, then one that never gets ready): each upgrade fails and the old process goes
// on serving; the real binary back in place upgrades.
func TestUpgradeFailureKeepsServing(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "asgo")
	real, err := os.ReadFile(asgoBin)
	if err != nil {
		t.Fatal(err)
	}
	install := func(content []byte) {
		tmp := bin + ".new"
		if err := os.WriteFile(tmp, content, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, bin); err != nil {
			t.Fatal(err)
		}
	}
	install(real)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startLogged(t, bin, "serve", "--bind", addr, "--timeout-upgrade", "1s")
	check := func(when string) {
		t.Helper()
		if st, body := get(t, "http://"+addr+"/"); st != 200 || body != "Hello, World!" {
			t.Fatalf("GET / %s: %d %q", when, st, body)
		}
	}
	check("at start")

	install([]byte("#!/bin/sh\nexit 3\n"))
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, "upgrade failed; still serving", 1)
	if !strings.Contains(p.logs(), "exited before it was ready") {
		t.Errorf("the failure does not say why:\n%s", p.logs())
	}
	check("after a new process that exits")

	install([]byte("#!/bin/sh\nexec sleep 30\n"))
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, "upgrade: starting a new process", 2)
	p.signal(t, syscall.SIGUSR2) // during the upgrade: ignored
	p.waitLog(t, "upgrade already in progress; ignoring SIGUSR2", 1)
	p.waitLog(t, "upgrade failed; still serving", 2)
	if n := strings.Count(p.logs(), "upgrade: starting a new process"); n != 2 {
		t.Errorf("%d upgrades started, want 2 (the second SIGUSR2 during one is ignored)", n)
	}
	if !strings.Contains(p.logs(), "not ready within 1s") {
		t.Errorf("the failure does not say why:\n%s", p.logs())
	}
	check("after a new process that never gets ready")

	install(real)
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, "new process is ready", 1)
	p.waitExit(t, 15*time.Second)
	check("after the upgrade")
	_ = syscall.Kill(p.newPid(t, 1), syscall.SIGTERM)
}

// TestSIGHUPReloadsLogLevelAndAccessLog: --log-level-file is re-read on SIGHUP (debug
// lines appear), a bad level file is reported and changes nothing, and the access log
// is reopened in the same reload, all in one log line each.
func TestSIGHUPReloadsLogLevelAndAccessLog(t *testing.T) {
	dir := t.TempDir()
	levelFile := filepath.Join(dir, "level")
	accessLog := filepath.Join(dir, "access.log")
	if err := os.WriteFile(levelFile, []byte("info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startLogged(t, asgoBin, "serve", "--bind", addr, "--log-level", "debug", "--log-level-file", levelFile, "--access-log-file", accessLog)
	get(t, "http://"+addr+"/")
	testutil.WaitFor(t, 5*time.Second, "an access line", func() bool { b, _ := os.ReadFile(accessLog); return len(b) > 0 })
	if err := os.Rename(accessLog, accessLog+".1"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.logs(), "level=DEBUG") {
		t.Errorf("debug lines with info in the level file (it wins over --log-level debug):\n%s", p.logs())
	}
	if err := os.WriteFile(levelFile, []byte("debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGHUP)
	p.waitLog(t, "msg=reloaded access-log=reopened log-level=debug", 1)
	get(t, "http://"+addr+"/")
	testutil.WaitFor(t, 5*time.Second, "an access line in the new file", func() bool { b, _ := os.ReadFile(accessLog); return len(b) > 0 })

	if err := os.WriteFile(levelFile, []byte("loud\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGHUP)
	p.waitLog(t, `msg="reload failed in part" access-log=reopened log-level="error: `, 1)
	p.signal(t, syscall.SIGTERM)
	p.waitExit(t, 15*time.Second)
	if !strings.Contains(p.logs(), "level=DEBUG") {
		t.Errorf("no debug line after the reload to debug:\n%s", p.logs())
	}
}

// workerPids returns the pids of the supervisor's children.
func workerPids(t *testing.T, supervisor int) []int {
	t.Helper()
	// The children of every thread: Go starts them from any thread.
	var b []byte
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", supervisor))
	for _, task := range tasks {
		c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", supervisor, task.Name()))
		b = append(b, ' ')
		b = append(b, c...)
	}
	seen := map[int]bool{}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && !seen[pid] && alive(pid) {
			seen[pid] = true
			out = append(out, pid)
		}
	}
	return out
}

func TestWorkersRestartAndDrain(t *testing.T) {
	for _, tc := range []struct{ name, network string }{{"bind", "tcp"}, {"uds", "unix"}} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			args := []string{"serve", "--workers", "3", "--loops", "1", "--bind", addr}
			if tc.network == "unix" {
				addr = filepath.Join(t.TempDir(), "asgo.sock")
				args = []string{"serve", "--workers", "3", "--loops", "1", "--uds", addr}
			}
			p := startLogged(t, asgoBin, args...)
			p.waitLog(t, "all workers ready", 1)
			pids := workerPids(t, p.cmd.Process.Pid)
			if len(pids) != 3 {
				t.Fatalf("workers %v, want 3", pids)
			}
			stop := make(chan struct{})
			stats, wg := runLoad(tc.network, addr, 0, 4, stop)
			time.Sleep(500 * time.Millisecond)
			if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed := stats.ok.Load() + stats.failed.Load()
			// Connections opened after the kill are all served by the other workers.
			time.Sleep(100 * time.Millisecond)
			failedAfterKill := stats.failed.Load()
			time.Sleep(time.Second)
			close(stop)
			wg.Wait()
			t.Logf("%s: %s (the kill at request %d)", tc.name, stats, killed)
			if stats.failed.Load() != failedAfterKill || stats.non2xx.Load() != 0 {
				t.Errorf("new connections failed after the kill: %s", stats)
			}
			if f := stats.failed.Load(); f > 4 {
				t.Errorf("%d failures: more than the killed worker's connections", f)
			}
			p.waitLog(t, "worker exited; restarting", 1)
			testutil.WaitFor(t, 10*time.Second, "3 workers again", func() bool { return len(workerPids(t, p.cmd.Process.Pid)) == 3 })
			if !strings.Contains(p.logs(), fmt.Sprintf("pid=%d status=\"signal: killed\"", pids[0])) {
				t.Errorf("no log line for the killed worker %d", pids[0])
			}
			p.signal(t, syscall.SIGTERM)
			p.waitExit(t, 20*time.Second)
			p.waitLog(t, "msg=stopped", 4)
			if tc.network == "unix" {
				if _, err := os.Lstat(addr); !os.IsNotExist(err) {
					t.Errorf("socket file left after the supervisor's exit: %v", err)
				}
			}
		})
	}
}

// TestUpgradeNotifiesSystemd: under NOTIFY_SOCKET the new process says READY=1 with its
// pid, the old one hands the service over with MAINPID= and does not say STOPPING=1;
// the new one says STOPPING=1 when it is stopped.
func TestUpgradeNotifiesSystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	p := startLogged(t, asgoBin, "serve", "--bind", "127.0.0.1:0")
	read := func() string {
		buf := make([]byte, 512)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("reading the notification socket: %v", err)
		}
		return string(buf[:n])
	}
	old := p.cmd.Process.Pid
	if got, want := read(), fmt.Sprintf("READY=1\nMAINPID=%d", old); got != want {
		t.Fatalf("first notification %q, want %q", got, want)
	}
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, "new process is ready", 1)
	pid := p.newPid(t, 1)
	for _, want := range []string{fmt.Sprintf("READY=1\nMAINPID=%d", pid), fmt.Sprintf("MAINPID=%d", pid)} {
		if got := read(); got != want {
			t.Errorf("notification %q, want %q", got, want)
		}
	}
	p.waitExit(t, 15*time.Second)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	if got := read(); got != "STOPPING=1" {
		t.Errorf("after the old process's exit and the new one's SIGTERM: %q, want the new one's STOPPING=1 only", got)
	}
}

// TestWorkersNotifySystemdOnce: the supervisor says READY=1 once every worker is ready
// and STOPPING=1 on SIGTERM; the workers say nothing (they do not see NOTIFY_SOCKET).
func TestWorkersNotifySystemdOnce(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	p := startLogged(t, asgoBin, "serve", "--bind", "127.0.0.1:0", "--workers", "2", "--loops", "1")
	read := func() string {
		buf := make([]byte, 512)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			return err.Error()
		}
		return string(buf[:n])
	}
	if got, want := read(), fmt.Sprintf("READY=1\nMAINPID=%d", p.cmd.Process.Pid); got != want {
		t.Fatalf("first notification %q, want %q", got, want)
	}
	if !strings.Contains(p.logs(), "all workers ready") {
		t.Errorf("READY=1 before every worker was ready:\n%s", p.logs())
	}
	p.signal(t, syscall.SIGTERM)
	if got := read(); got != "STOPPING=1" {
		t.Errorf("notification on SIGTERM %q, want STOPPING=1", got)
	}
	p.waitExit(t, 20*time.Second)
	_ = pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := pc.Read(make([]byte, 512)); err == nil {
		t.Errorf("a further notification of %d bytes (from a worker?)", n)
	}
}

// TestUpgradeSystemdSocketActivation upgrades a server started by
// systemd-socket-activate: the sockets systemd passed go on to the new process.
func TestUpgradeSystemdSocketActivation(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logPath := filepath.Join(t.TempDir(), "asgo.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cmd := exec.Command("/usr/bin/systemd-socket-activate", "-l", addr, "--fdname=web", asgoBin, "serve", "--timeout-keep-alive", "1s")
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &lproc{cmd: cmd, logPath: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("asgo log:\n%s", p.logs())
		}
	})
	// The activator execs asgo at the first connection (same pid).
	testutil.WaitFor(t, 10*time.Second, "the first answer", func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	p.waitLog(t, "addr=systemd:web", 1)
	stop := make(chan struct{})
	stats, wg := runLoad("tcp", addr, 4, 2, stop)
	time.Sleep(300 * time.Millisecond)
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, "new process is ready", 1)
	p.waitExit(t, 15*time.Second)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%s", stats)
	if stats.failed.Load() != 0 || stats.non2xx.Load() != 0 {
		t.Errorf("requests failed during the upgrade: %s", stats)
	}
	p.waitLog(t, "addr=systemd:web", 2) // the new process names the socket as systemd did
	if st, body := get(t, "http://"+addr+"/"); st != 200 || body != "Hello, World!" {
		t.Fatalf("after the upgrade: %d %q", st, body)
	}
	_ = syscall.Kill(p.newPid(t, 1), syscall.SIGTERM)
}
