package asgo

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/asgo-dev/asgo/eventloop"
)

// Process handoff: a process started by an upgrade or by a worker supervisor finds in
// its environment the listening sockets it inherited and the pipe on which it says it
// is ready. These variables are internal: not flags (no --flag reads them), and
// removed from the environment once read so that the process's own children do not
// see them.
const (
	envInherited = "ASGO_INHERITED_LISTENERS" // JSON []eventloop.InheritedListener
	envReadyFD   = "ASGO_READY_FD"            // write end of the readiness pipe
	envWorker    = "ASGO_WORKER"              // worker index (1..N): this process is a worker
)

const defaultUpgradeTimeout = 90 * time.Second

// startExe is the program as it was at start: an upgrade runs the file now at that
// path (a new binary installed over the old one), as nginx and gunicorn do.
var startExe, startExeErr = os.Executable()

// handoff is what the parent process passed.
type handoff struct {
	listeners []eventloop.InheritedListener
	readyFD   int // -1: none
	worker    int // 0: not a worker
	err       error
}

var (
	handoffOnce sync.Once
	handoffVal  handoff
)

// takeHandoff reads (once per process) and removes the handoff variables.
func takeHandoff() handoff {
	handoffOnce.Do(func() {
		h := handoff{readyFD: -1}
		if v := os.Getenv(envInherited); v != "" {
			if err := json.Unmarshal([]byte(v), &h.listeners); err != nil {
				h.err = fmt.Errorf("%s: %w", envInherited, err)
			}
		}
		if v := os.Getenv(envReadyFD); v != "" {
			if fd, err := strconv.Atoi(v); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
				h.readyFD = fd
			}
		}
		if v := os.Getenv(envWorker); v != "" {
			h.worker, _ = strconv.Atoi(v)
			if h.worker <= 0 {
				h.worker = 1
			}
		}
		for _, name := range []string{envInherited, envReadyFD, envWorker} {
			os.Unsetenv(name)
		}
		handoffVal = h
	})
	return handoffVal
}

// isWorker reports whether this process is a worker of a supervisor (--workers).
func isWorker() bool { return takeHandoff().worker > 0 }

// signalReady tells the parent that this process serves (once).
func (h *handoff) signalReady() {
	if h.readyFD < 0 {
		return
	}
	f := os.NewFile(uintptr(h.readyFD), "ready")
	_, _ = f.Write([]byte("ready\n"))
	f.Close()
	h.readyFD = -1
}

// child is a process started with inherited listeners and a readiness pipe.
type child struct {
	pid    int
	ready  chan error // one value: nil once ready, or why it never will be
	exited chan error // one value when it exits (its wait status)
}

// spawn starts the program again with the same arguments and environment, less the
// variables named in drop, plus extraEnv, passing ls as descriptors 3, 4, ... and a readiness pipe after them. It
// uses syscall.ForkExec with the raw descriptors: os/exec's ExtraFiles would call
// os.File.Fd, which switches a shared listening socket to blocking mode (and with it
// the gnet loops that still accept on it).
func spawn(ls []eventloop.InheritedListener, extraEnv, drop []string, pdeathsig syscall.Signal) (*child, error) {
	if startExeErr != nil {
		return nil, fmt.Errorf("cannot find the program to start: %w", startExeErr)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	passed := make([]eventloop.InheritedListener, len(ls))
	files := []uintptr{0, 1, 2}
	for i, l := range ls {
		passed[i] = l
		passed[i].FD = 3 + i
		files = append(files, uintptr(l.FD))
	}
	wfd, err := rawFile(w)
	if err != nil {
		r.Close()
		return nil, err
	}
	files = append(files, wfd)
	desc, _ := json.Marshal(passed)
	env := []string{}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == envInherited || name == envReadyFD || name == envWorker || slices.Contains(drop, name) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, envInherited+"="+string(desc), envReadyFD+"="+strconv.Itoa(3+len(ls)))
	env = append(env, extraEnv...)
	pid, err := syscall.ForkExec(startExe, os.Args, &syscall.ProcAttr{
		Env:   env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Pdeathsig: pdeathsig},
	})
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("starting %s: %w", startExe, err)
	}
	c := &child{pid: pid, ready: make(chan error, 1), exited: make(chan error, 1)}
	go func() {
		defer r.Close()
		buf := make([]byte, 16)
		if n, _ := r.Read(buf); n > 0 {
			c.ready <- nil
			return
		}
		c.ready <- errors.New("it exited before it was ready")
	}()
	go func() {
		p, err := os.FindProcess(pid)
		if err == nil {
			var st *os.ProcessState
			if st, err = p.Wait(); err == nil {
				err = errors.New(st.String())
			}
		}
		c.exited <- err
	}()
	return c, nil
}

// rawFile returns f's descriptor without os.File.Fd's switch to blocking mode.
func rawFile(f *os.File) (uintptr, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var fd uintptr
	if err := rc.Control(func(d uintptr) { fd = d }); err != nil {
		return 0, err
	}
	return fd, nil
}

// awaitReady waits until c is ready, or fails after timeout (then c is stopped: SIGTERM,
// and SIGKILL 5 s later).
func (c *child) awaitReady(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-c.ready:
		return err
	case <-t.C:
	}
	_ = syscall.Kill(c.pid, syscall.SIGTERM)
	go func() {
		select {
		case <-c.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(c.pid, syscall.SIGKILL)
		}
	}()
	return fmt.Errorf("it was not ready within %v; stopped it", timeout)
}

// upgrader runs one upgrade at a time for Serve.
type upgrader struct {
	log     *slog.Logger
	timeout time.Duration
	systemd bool
	running bool
	done    chan error // the running upgrade's outcome
}

// start begins an upgrade that hands over ls (closed here once passed), unless one
// runs already.
func (u *upgrader) start(dup func() ([]eventloop.InheritedListener, error)) {
	if u.running {
		u.log.Warn("upgrade already in progress; ignoring SIGUSR2")
		return
	}
	ls, err := dup()
	if err != nil {
		u.log.Error("upgrade failed; still serving", "err", err)
		return
	}
	u.running = true
	u.done = make(chan error, 1)
	u.log.Info("upgrade: starting a new process", "exe", startExe, "listeners", len(ls))
	go func() {
		c, err := spawn(ls, nil, nil, 0)
		eventloop.CloseInherited(ls)
		if err == nil {
			if err = c.awaitReady(u.timeout); err == nil {
				u.log.Info("upgrade: the new process is ready; this one stops accepting and drains", "pid", c.pid)
				if u.systemd {
					if e := eventloop.SDNotify("MAINPID=" + strconv.Itoa(c.pid)); e != nil {
						u.log.Warn("sd_notify MAINPID failed", "err", e)
					}
				}
			} else {
				err = fmt.Errorf("new process %d: %w", c.pid, err)
			}
		}
		u.done <- err
	}()
}

// finished reports the running upgrade's outcome: true when the new process serves.
func (u *upgrader) finished(err error) bool {
	u.running = false
	if err != nil {
		u.log.Error("upgrade failed; still serving", "err", err)
		return false
	}
	return true
}
