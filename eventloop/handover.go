package eventloop

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listener handover between processes: a zero-downtime upgrade passes every listening
// socket of a running server to a new process, and a worker supervisor passes its
// sockets to its workers. The receiving process adopts them (Config.Inherited: an
// accept goroutine each, as --fd). See docs/ARCHITECTURE.md, "Upgrades" and "Workers".

// InheritedListener describes a listening socket passed from another process (or, from
// DupListeners and OpenListeners, one to pass on). It is plain data, encoded as JSON in
// the environment of the receiving process; copy it freely, but close each FD once.
type InheritedListener struct {
	// FD is the descriptor number (in the receiving process: where it was passed).
	FD int `json:"fd"`
	// UWSGI marks a --uwsgi-bind listener: its connections speak uwsgi.
	UWSGI bool `json:"uwsgi,omitempty"`
	// TLS marks a TLS bind (Config.TLSBinds): its connections are served with the
	// receiver's Config.TLS.
	TLS bool `json:"tls,omitempty"`
	// UnixPath and UnixIno name the socket file of a Unix listener that its receiver
	// owns: it is removed when the server stops, if it is still that file (inode).
	// Empty for listeners whose file belongs to someone else (a supervisor's workers).
	UnixPath string `json:"unix_path,omitempty"`
	UnixIno  uint64 `json:"unix_ino,omitempty"`
	// Name is the listener as logs show it: 127.0.0.1:8000, unix:PATH, uwsgi:..., fd:N.
	Name string `json:"name"`
}

// adoptInherited opens the listeners of cfg.Inherited.
func adoptInherited(cfg *Config) ([]*adoptedListener, error) {
	var out []*adoptedListener
	for _, il := range cfg.Inherited {
		a, err := adoptFD(il.FD, il.Name)
		if err != nil {
			closeAdopted(out)
			return nil, err
		}
		a.tag.uwsgi, a.tag.tls = il.UWSGI, il.TLS
		a.path, a.ino = il.UnixPath, il.UnixIno
		out = append(out, a)
	}
	return out, nil
}

// DupListeners returns a duplicate of every listening socket of a started server, for
// another process to inherit (the descriptors are close-on-exec: pass them explicitly).
// For native binds these are every event loop's SO_REUSEPORT listener (gnet exposes
// only the first loop's, so they are found among the process's descriptors by their
// address). Unix socket files are described as owned by the receiver: after a
// successful handover StopAccepting(true) makes this server leave them in place. The
// caller closes the descriptors. Safe for concurrent use.
func (s *Server) DupListeners() ([]InheritedListener, error) {
	var out []InheritedListener
	fail := func(err error) ([]InheritedListener, error) {
		CloseInherited(out)
		return nil, err
	}
	for _, a := range s.adopted {
		fd, err := dupListener(a.ln)
		if err != nil {
			return fail(fmt.Errorf("eventloop: %s: %w", a.desc, err))
		}
		out = append(out, InheritedListener{FD: fd, UWSGI: a.tag.uwsgi, TLS: a.tag.tls, UnixPath: a.path, UnixIno: a.ino, Name: a.desc})
	}
	if s.nativeErr != nil {
		return fail(s.nativeErr)
	}
	for _, n := range s.nativeFDs {
		fd, err := unix.FcntlInt(uintptr(n.fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return fail(fmt.Errorf("eventloop: dup %s: %w", n.name, err))
		}
		out = append(out, InheritedListener{FD: fd, Name: n.name, TLS: n.tls})
	}
	return out, nil
}

// CloseInherited closes the descriptors of ls (for example after passing them on). Safe
// for concurrent use on distinct lists.
func CloseInherited(ls []InheritedListener) {
	for _, l := range ls {
		_ = unix.Close(l.FD)
	}
}

type nativeFD struct {
	fd   int
	name string
	tls  bool // one of the TLS binds
}

// findNativeFDs records gnet's listening sockets for the native binds, once the engine
// runs (Start), before any other listener on the same addresses may exist in the
// process (a server that took them over, in tests).
func (s *Server) findNativeFDs() {
	own := map[int]bool{}
	for _, a := range s.adopted {
		if raw, err := rawFD(a.ln); err == nil {
			own[raw] = true
		}
	}
	s.nativeFDs, s.nativeErr = s.nativeListenerFDs(own)
}

// nativeListenerFDs finds gnet's listening sockets for the native binds among the
// process's descriptors: listening TCP sockets bound to one of the binds' addresses,
// other than the adopted listeners (own). Linux only (/proc/self/fd).
func (s *Server) nativeListenerFDs(own map[int]bool) ([]nativeFD, error) {
	if s.placeholder {
		return nil, nil
	}
	if len(s.nativeBinds) == 0 {
		return nil, nil
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, fmt.Errorf("eventloop: listing the process's descriptors: %w", err)
	}
	var out []nativeFD
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || own[fd] {
			continue
		}
		if acc, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || acc == 0 {
			continue
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			continue
		}
		var got net.TCPAddr
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			got = net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		case *unix.SockaddrInet6:
			got = net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		default:
			continue
		}
		for _, b := range s.nativeBinds {
			if b.Port == got.Port && (b.IP.Equal(got.IP) || (len(b.IP) == 0 || b.IP.IsUnspecified()) && got.IP.IsUnspecified()) {
				out = append(out, nativeFD{fd: fd, name: b.String(), tls: s.tlsListen != nil && s.tlsListen.match(b)})
				break
			}
		}
	}
	return out, nil
}

// StopAccepting makes the server accept no more connections while the ones it has go
// on (Shutdown then drains them). Unlike Shutdown's refusal of late connections, the
// listening sockets stay open for whoever else holds them (the process that took them
// over, or a supervisor and the other workers): nothing queued on them is lost.
// Adopted listeners are closed (this process's descriptor only); gnet's native
// listeners are removed from the event loops' epoll sets, as nginx removes a listener
// from its event set before closing it, since gnet cannot close a listener without
// stopping its loops.
//
// With handover set (an upgrade), Unix socket files are left to the new process, and
// until the server stops, HTTP/1.1 keep-alive connections are drained softly: an idle
// one is not closed (its client may be sending a request right now), the next response
// carries Connection: close, and the keep-alive timeout closes it otherwise; the drain
// does not send sd_notify STOPPING=1 (the service goes on in the new process).
// Safe for concurrent use; call it once, after Start.
func (s *Server) StopAccepting(handover bool) {
	if handover {
		s.handover.Store(true)
	}
	for _, a := range s.adopted {
		if handover {
			a.path = "" // the socket file is the new process's now
		}
		_ = a.ln.Close()
	}
	native := s.nativeFDs
	if s.nativeErr != nil {
		s.log.Warn("cannot stop accepting on the native listeners", "err", s.nativeErr)
		return
	}
	if len(native) == 0 {
		return
	}
	for _, ep := range epollFDs() {
		for _, n := range native {
			// ENOENT: not in this epoll set (another loop's, or Go's own poller).
			_ = unix.EpollCtl(ep, unix.EPOLL_CTL_DEL, n.fd, nil)
		}
	}
	// A loop may have had an accept event in hand when it was removed: two rounds of
	// tasks on every loop let the batch of events it was processing finish.
	for range 2 {
		s.forEachLoop(func(*loop) {})
	}
}

// epollFDs returns the process's epoll descriptors (gnet's pollers and Go's own).
func epollFDs() []int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		link, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || !strings.Contains(link, "eventpoll") {
			continue
		}
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, fd)
		}
	}
	return out
}

// rawFD returns the descriptor of a Go listener.
func rawFD(ln net.Listener) (int, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("eventloop: %T has no descriptor", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// dupListener duplicates a Go listener's descriptor without changing its blocking mode
// (os.File.Fd and net.TCPListener.File may switch the shared file description to
// blocking, which would block gnet's loops on accept).
func dupListener(ln net.Listener) (int, error) {
	fd, err := rawFD(ln)
	if err != nil {
		return -1, err
	}
	return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
}

// OpenListeners opens every listener cfg asks for, as a supervisor of worker processes
// does before starting them: each --bind address gets one plain listening socket (not
// one per loop: the workers share its queue, so a worker that dies leaves nothing
// unaccepted), Unix sockets, uwsgi binds, --fd and systemd sockets as Start opens them.
// Unix socket files are described with their owner's inode (the caller owns them;
// RemoveUnixFiles removes them). The caller closes the descriptors (CloseInherited).
// Safe for concurrent use (it opens new sockets each time).
func OpenListeners(cfg Config) ([]InheritedListener, error) {
	cfg = cfg.Normalize()
	if len(cfg.Inherited) > 0 {
		return append([]InheritedListener(nil), cfg.Inherited...), nil
	}
	adopted, err := openAdopted(&cfg)
	if err != nil {
		return nil, err
	}
	binds := append(append([]string(nil), cfg.Binds...), cfg.TLSBinds...)
	if len(binds) == 0 && len(adopted) == 0 {
		binds = []string{defaultBind}
	}
	var out []InheritedListener
	fail := func(err error) ([]InheritedListener, error) {
		CloseInherited(out)
		closeAdopted(adopted)
		return nil, err
	}
	for i, b := range binds {
		lc := net.ListenConfig{}
		ln, err := lc.Listen(context.Background(), "tcp", b)
		if err != nil {
			return fail(fmt.Errorf("eventloop: %w", err))
		}
		fd, err := dupListener(ln)
		ln.Close()
		if err != nil {
			return fail(err)
		}
		out = append(out, InheritedListener{FD: fd, Name: ln.Addr().String(), TLS: i >= len(cfg.Binds) && len(cfg.TLSBinds) > 0})
	}
	for _, a := range adopted {
		fd, err := dupListener(a.ln)
		if err != nil {
			return fail(err)
		}
		out = append(out, InheritedListener{FD: fd, UWSGI: a.tag.uwsgi, UnixPath: a.path, UnixIno: a.ino, Name: a.desc})
		a.path = "" // closing this copy must not remove the file
		_ = a.ln.Close()
	}
	return out, nil
}

// RemoveUnixFiles removes the socket files of ls that are still the files their
// listeners created (same inode), as a server does when it stops. Safe for concurrent use.
func RemoveUnixFiles(ls []InheritedListener) {
	for _, l := range ls {
		if l.UnixPath == "" {
			continue
		}
		var st unix.Stat_t
		if unix.Lstat(l.UnixPath, &st) == nil && st.Ino == l.UnixIno {
			_ = os.Remove(l.UnixPath)
		}
	}
}

// SDNotify sends state to systemd's notification socket (sd_notify) when NOTIFY_SOCKET
// is set; it does nothing otherwise. Safe for concurrent use.
func SDNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // abstract namespace
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}
