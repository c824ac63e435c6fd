package asgo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/asgo-dev/asgo/eventloop"
)

// Worker processes (--workers N): the supervisor opens every listener once and passes
// the sockets to N processes of the same program, which accept on them (each as an
// --fd listener: an accept goroutine handing connections to its event loops). A
// socket's queue is shared: a worker that dies leaves nothing unaccepted behind, the
// others take it. See docs/ARCHITECTURE.md, "Workers".

const (
	workerBackoffMin = 100 * time.Millisecond
	workerBackoffMax = 10 * time.Second // also how long a worker must stay up to reset it
)

type workerState struct {
	index   int
	c       *child
	started time.Time
	backoff time.Duration
	ready   bool
	exited  bool
}

type workerEvent struct {
	w     *workerState
	c     *child
	err   error // exit status, or readiness failure
	ready bool
}

// supervise runs cfg.Workers worker processes on the listeners of cfg (or those h
// passed, after an upgrade of a supervisor) until ctx is cancelled, then drains them.
func supervise(ctx context.Context, cfg Config, h *handoff, log *slog.Logger) error {
	ls := h.listeners
	if len(ls) == 0 {
		var err error
		srv := cfg.Server
		if cfg.TLS.Enabled() && srv.TLS == nil {
			srv.Binds, srv.TLSBinds = tlsListeners(srv) // the workers serve TLS on these
		}
		if ls, err = eventloop.OpenListeners(srv); err != nil {
			return fmt.Errorf("asgo: %w", err)
		}
	}
	handedOver := false
	defer func() {
		eventloop.CloseInherited(ls)
		if !handedOver {
			eventloop.RemoveUnixFiles(ls)
		}
	}()
	for _, l := range ls {
		log.Info("listening", "addr", l.Name, "workers", cfg.Workers)
	}
	events := make(chan workerEvent, 4*cfg.Workers)
	timeout := cfg.UpgradeTimeout
	if timeout <= 0 {
		timeout = defaultUpgradeTimeout
	}
	// Workers get the sockets without the ownership of Unix socket files (the
	// supervisor removes them), and no NOTIFY_SOCKET: the supervisor is the service.
	shared := make([]eventloop.InheritedListener, len(ls))
	for i, l := range ls {
		shared[i] = l
		shared[i].UnixPath, shared[i].UnixIno = "", 0
	}
	launch := func(w *workerState) {
		c, err := spawn(shared, []string{envWorker + "=" + strconv.Itoa(w.index)}, []string{"NOTIFY_SOCKET"}, syscall.SIGTERM)
		if err != nil {
			log.Error("cannot start a worker", "worker", w.index, "err", err)
			go func() { events <- workerEvent{w: w, err: err} }()
			return
		}
		w.c, w.started, w.ready, w.exited = c, time.Now(), false, false
		log.Info("worker started", "worker", w.index, "pid", c.pid)
		go func() {
			// A worker not ready within the upgrade timeout is stopped (and restarted).
			if err := c.awaitReady(timeout); err == nil {
				events <- workerEvent{w: w, c: c, ready: true}
			} else if !strings.Contains(err.Error(), "exited") {
				log.Error("worker not ready; stopping it", "worker", w.index, "pid", c.pid, "err", err)
			}
			events <- workerEvent{w: w, c: c, err: <-c.exited}
		}()
	}
	workers := make([]*workerState, cfg.Workers)
	for i := range workers {
		workers[i] = &workerState{index: i + 1}
		launch(workers[i])
	}
	restart := make(chan *workerState, cfg.Workers)
	allReady := false
	up := &upgrader{log: log, timeout: timeout, systemd: cfg.Server.Systemd}
	for {
		select {
		case ev := <-events:
			w := ev.w
			if ev.c != nil && ev.c != w.c {
				continue // an earlier process of this worker
			}
			if ev.ready {
				w.ready = true
				if !allReady && readyCount(workers) == len(workers) {
					allReady = true
					log.Info("all workers ready", "workers", len(workers))
					h.signalReady()
					if cfg.Server.Systemd {
						if err := eventloop.SDNotify("READY=1\nMAINPID=" + strconv.Itoa(os.Getpid())); err != nil {
							log.Warn("sd_notify READY failed", "err", err)
						}
					}
					if cfg.OnReady != nil {
						cfg.OnReady(listenerAddrs(ls))
					}
				}
				continue
			}
			w.exited, w.ready = true, false
			if time.Since(w.started) >= workerBackoffMax {
				w.backoff = 0 // it stayed up: a fresh failure
			}
			w.backoff = min(max(2*w.backoff, workerBackoffMin), workerBackoffMax)
			pid := 0
			if w.c != nil {
				pid = w.c.pid
			}
			log.Error("worker exited; restarting", "worker", w.index, "pid", pid, "status", errString(ev.err), "backoff", w.backoff)
			time.AfterFunc(w.backoff, func() { restart <- w })
		case w := <-restart:
			launch(w)
		case <-ctx.Done():
			if cfg.Server.Systemd {
				if err := eventloop.SDNotify("STOPPING=1"); err != nil {
					log.Warn("sd_notify STOPPING failed", "err", err)
				}
			}
			return stopWorkers(workers, events, cfg, log)
		case <-cfg.Reload:
			reload(nil, &cfg, log) // its own log level
			n := signalWorkers(workers, syscall.SIGHUP)
			log.Info("reload: SIGHUP passed to the workers", "workers", n)
		case <-cfg.Upgrade:
			up.start(func() ([]eventloop.InheritedListener, error) { return dupAll(ls) })
		case err := <-up.done:
			if up.finished(err) {
				handedOver = true
				log.Info("upgrade: draining the old workers")
				return stopWorkers(workers, events, cfg, log)
			}
		}
	}
}

func readyCount(ws []*workerState) int {
	n := 0
	for _, w := range ws {
		if w.ready {
			n++
		}
	}
	return n
}

func errString(err error) string {
	if err == nil {
		return "exited"
	}
	return err.Error()
}

// signalWorkers sends sig to every running worker and returns how many.
func signalWorkers(ws []*workerState, sig syscall.Signal) int {
	n := 0
	for _, w := range ws {
		if w.c != nil && !w.exited && syscall.Kill(w.c.pid, sig) == nil {
			n++
		}
	}
	return n
}

// stopWorkers drains every worker (SIGTERM: each stops accepting, drains and runs its
// lifespan shutdown) and waits for them; those still running after the drain and
// shutdown timeouts are killed. A second SIGTERM/SIGINT to the supervisor exits it at
// once, and the workers (their parent gone) get a second SIGTERM, which ends them too.
func stopWorkers(ws []*workerState, events chan workerEvent, cfg Config, log *slog.Logger) error {
	n := signalWorkers(ws, syscall.SIGTERM)
	log.Info("draining the workers", "workers", n)
	norm := cfg.Server.Normalize()
	shutdown := cfg.Lifespan.ShutdownTimeout
	if shutdown <= 0 {
		shutdown = 30 * time.Second
	}
	deadline := time.NewTimer(norm.GracefulTimeout + shutdown + 5*time.Second)
	defer deadline.Stop()
	running := 0
	for _, w := range ws {
		if w.c != nil && !w.exited {
			running++
		}
	}
	failed := 0
	for running > 0 {
		select {
		case ev := <-events:
			if ev.ready || ev.c != ev.w.c || ev.w.exited {
				continue
			}
			ev.w.exited = true
			running--
			if ev.err != nil && ev.err.Error() != "exit status 0" {
				failed++
				log.Warn("worker ended badly", "worker", ev.w.index, "pid", ev.w.c.pid, "status", errString(ev.err))
			}
		case <-deadline.C:
			log.Warn("workers still running after the drain; killing them", "workers", running)
			signalWorkers(ws, syscall.SIGKILL)
			deadline.Reset(5 * time.Second)
		}
	}
	if failed > 0 {
		return &ShutdownError{Err: fmt.Errorf("%d worker(s) did not stop cleanly", failed)}
	}
	return nil
}

// dupAll duplicates the supervisor's sockets for a new supervisor (an upgrade).
func dupAll(ls []eventloop.InheritedListener) ([]eventloop.InheritedListener, error) {
	out := make([]eventloop.InheritedListener, 0, len(ls))
	for _, l := range ls {
		fd, err := syscall.Dup(l.FD)
		if err != nil {
			eventloop.CloseInherited(out)
			return nil, err
		}
		syscall.CloseOnExec(fd)
		l.FD = fd
		out = append(out, l)
	}
	return out, nil
}

// listenerAddrs returns the addresses of ls, for Config.OnReady.
func listenerAddrs(ls []eventloop.InheritedListener) []net.Addr {
	var out []net.Addr
	for _, l := range ls {
		if sa, err := syscall.Getsockname(l.FD); err == nil {
			switch sa := sa.(type) {
			case *syscall.SockaddrInet4:
				out = append(out, &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port})
			case *syscall.SockaddrInet6:
				out = append(out, &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port})
			case *syscall.SockaddrUnix:
				out = append(out, &net.UnixAddr{Name: sa.Name, Net: "unix"})
			}
		}
	}
	return out
}
