package eventloop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Adopted listeners: Unix domain sockets, inherited descriptors (--fd) and systemd's
// sockets (LISTEN_FDS). gnet cannot adopt a listening descriptor, and a unix:// address
// in gnet's own list would turn SO_REUSEPORT off for the whole engine (gnet then
// accepts every TCP connection on one main reactor and hands it to a loop), so these
// listeners are accepted on a goroutine each and every accepted connection is handed
// to a loop with gnet's Engine.Register (gnet dups the descriptor, adds it to the
// least-loaded loop and calls OnOpen there). Native TCP binds keep gnet's per-loop
// SO_REUSEPORT listeners and never see this path.

// listenerTag travels with an adopted connection into OnOpen (gnet.NewContext): the
// listener it came from.
type listenerTag struct {
	addr  net.Addr // what Server.Addrs reports, and the scope's server address
	uwsgi bool     // a --uwsgi-bind listener: connections speak uwsgi
	tls   bool     // an inherited TLS bind (Config.Inherited): connections speak TLS
}

// adoptedListener is one listener served by an accept goroutine.
type adoptedListener struct {
	ln   net.Listener
	tag  *listenerTag
	desc string // for logs: unix:PATH, fd:N, systemd:NAME
	path string // a Unix socket file this server created: removed on close
	ino  uint64 // its inode, so only our own file is removed
}

func (a *adoptedListener) close() {
	_ = a.ln.Close()
	if a.path == "" {
		return
	}
	var st unix.Stat_t
	if unix.Lstat(a.path, &st) == nil && st.Ino == a.ino {
		_ = os.Remove(a.path)
	}
}

// listenUnix binds a Unix domain socket at path with the given permissions. A stale
// socket file (nobody accepts on it: connecting fails with ECONNREFUSED) is replaced;
// a live one, or a file that is not a socket, is an error.
func listenUnix(path string, mode os.FileMode) (*adoptedListener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("eventloop: unix socket %s: the path exists and is not a socket", path)
		}
		c, err := net.DialTimeout("unix", path, time.Second)
		switch {
		case err == nil:
			c.Close()
			return nil, fmt.Errorf("eventloop: unix socket %s: another process serves it", path)
		case errors.Is(err, syscall.ECONNREFUSED):
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("eventloop: unix socket %s: removing the stale socket: %w", path, err)
			}
		default:
			return nil, fmt.Errorf("eventloop: unix socket %s: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("eventloop: %w", err)
	}
	ln.SetUnlinkOnClose(false) // close removes the file only if it is still ours
	a := &adoptedListener{ln: ln, desc: "unix:" + path, path: path, tag: &listenerTag{addr: ln.Addr()}}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err == nil {
		a.ino = st.Ino
	}
	if err := os.Chmod(path, mode); err != nil {
		a.close()
		return nil, fmt.Errorf("eventloop: unix socket %s: %w", path, err)
	}
	return a, nil
}

// listenUWSGI opens a uwsgi listener: "unix:PATH" or a TCP "HOST:PORT".
func listenUWSGI(bind string, mode os.FileMode) (*adoptedListener, error) {
	var a *adoptedListener
	if path, ok := strings.CutPrefix(bind, "unix:"); ok {
		var err error
		if a, err = listenUnix(path, mode); err != nil {
			return nil, err
		}
	} else {
		ln, err := net.Listen("tcp", bind)
		if err != nil {
			return nil, fmt.Errorf("eventloop: uwsgi: %w", err)
		}
		a = &adoptedListener{ln: ln, tag: &listenerTag{addr: ln.Addr()}}
		a.desc = ln.Addr().String()
	}
	a.desc = "uwsgi:" + a.desc
	a.tag.uwsgi = true
	return a, nil
}

// adoptFD serves the inherited listening socket fd. The descriptor is taken over:
// it is closed when the server stops.
func adoptFD(fd int, desc string) (*adoptedListener, error) {
	acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
	if err != nil {
		return nil, fmt.Errorf("eventloop: %s is not a socket: %w", desc, err)
	}
	if acc == 0 {
		return nil, fmt.Errorf("eventloop: %s is not a listening socket", desc)
	}
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		return nil, fmt.Errorf("eventloop: %s is not a stream socket", desc)
	}
	unix.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), desc)
	ln, err := net.FileListener(f) // dups the descriptor
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("eventloop: %s: %w", desc, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // the socket file belongs to whoever created it
	}
	return &adoptedListener{ln: ln, desc: desc, tag: &listenerTag{addr: ln.Addr()}}, nil
}

// SystemdListeners returns the listening sockets passed by systemd socket activation
// (sd_listen_fds): the descriptors from 3 on when LISTEN_PID is this process, with
// their LISTEN_FDNAMES names ("" when absent). Like sd_listen_fds(1), it unsets
// LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, so child processes do not take them too.
func SystemdListeners() (fds []int, names []string, err error) {
	pid, fdsEnv, namesEnv := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	if pid == "" || fdsEnv == "" {
		return nil, nil, nil
	}
	if p, err := strconv.Atoi(pid); err != nil || p != os.Getpid() {
		return nil, nil, nil // meant for another process
	}
	n, err := strconv.Atoi(fdsEnv)
	if err != nil || n < 0 {
		return nil, nil, fmt.Errorf("eventloop: bad LISTEN_FDS %q", fdsEnv)
	}
	var nameList []string
	if namesEnv != "" {
		nameList = strings.Split(namesEnv, ":")
	}
	const listenFDsStart = 3
	for i := range n {
		fds = append(fds, listenFDsStart+i)
		name := ""
		if i < len(nameList) {
			name = nameList[i]
		}
		names = append(names, name)
	}
	return fds, names, nil
}

// openAdopted opens the listeners of cfg that are not native gnet binds.
func openAdopted(cfg *Config) ([]*adoptedListener, error) {
	if len(cfg.Inherited) > 0 {
		return adoptInherited(cfg) // handover.go
	}
	var out []*adoptedListener
	fail := func(err error) ([]*adoptedListener, error) {
		for _, a := range out {
			a.close()
		}
		return nil, err
	}
	for _, p := range cfg.UnixSockets {
		a, err := listenUnix(p, cfg.UnixSocketMode)
		if err != nil {
			return fail(err)
		}
		out = append(out, a)
	}
	for _, b := range cfg.UWSGIBinds {
		a, err := listenUWSGI(b, cfg.UnixSocketMode)
		if err != nil {
			return fail(err)
		}
		out = append(out, a)
	}
	for _, fd := range cfg.ListenFDs {
		a, err := adoptFD(fd, "fd:"+strconv.Itoa(fd))
		if err != nil {
			return fail(err)
		}
		out = append(out, a)
	}
	if cfg.Systemd {
		fds, names, err := SystemdListeners()
		if err != nil {
			return fail(err)
		}
		for i, fd := range fds {
			desc := "systemd:" + strconv.Itoa(fd)
			if names[i] != "" {
				desc = "systemd:" + names[i]
			}
			a, err := adoptFD(fd, desc)
			if err != nil {
				return fail(err)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// acceptLoop accepts connections on a and hands each to an event loop until a is
// closed. Accept errors other than the listener's closing (EMFILE, ENFILE, ...) are
// logged and retried after a growing pause, as net/http does.
func (s *Server) acceptLoop(a *adoptedListener) {
	defer s.acceptWG.Done()
	var pause time.Duration
	for {
		c, err := a.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.stopping.Load() {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "listener", a.desc, "err", err, "pause", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		s.enroll(c, a.tag)
	}
}

// enroll hands an accepted connection to an event loop. gnet dups its descriptor and
// closes c; OnOpen runs on the chosen loop with the listener's tag as the context.
func (s *Server) enroll(c net.Conn, tag *listenerTag) {
	eng, ready := s.engine()
	select {
	case <-ready:
	case <-s.stopped:
		c.Close()
		return
	}
	ctx := gnet.NewNetConnContext(gnet.NewContext(context.Background(), tag), c)
	if _, err := eng.Register(ctx); err != nil {
		c.Close()
		if !s.stopping.Load() {
			s.log.Warn("could not hand a connection to an event loop", "err", err)
		}
	}
}

// engine returns the current gnet engine and a channel closed once its loops run.
func (s *Server) engine() (gnet.Engine, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng, s.engReady
}

// sdNotify sends state to systemd's notification socket (sd_notify) when
// Config.Systemd is on and NOTIFY_SOCKET is set; it does nothing otherwise.
func (s *Server) sdNotify(state string) error {
	if !s.cfg.Systemd {
		return nil
	}
	return SDNotify(state)
}

// setAddrs sets the scope addresses of a connection accepted on this listener: the
// listener's own address as the server (gnet reports a made-up local name for
// Unix connections it enrolls), and no client for a Unix socket (its peer has no
// name; the ASGI client is then None).
func (t *listenerTag) setAddrs(c *conn) {
	if ua, ok := t.addr.(*net.UnixAddr); ok {
		c.server = &asgi.Addr{Host: ua.Name}
		return
	}
	c.server = toAddr(t.addr)
	c.client = toAddr(c.gc.RemoteAddr())
}
