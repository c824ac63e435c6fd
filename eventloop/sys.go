package eventloop

import (
	"fmt"
	"net"
	"strconv"

	"golang.org/x/sys/unix"
)

// RaiseOpenFileLimit raises the soft RLIMIT_NOFILE to the hard limit and returns the
// new soft limit. gnet shuts its engine down on EMFILE, so we take every descriptor we
// may and cap connections below it.
func RaiseOpenFileLimit() (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			return lim.Cur, err
		}
	}
	return lim.Cur, nil
}

func defaultMaxConnections() int {
	limit, _ := RaiseOpenFileLimit()
	if limit == 0 || limit > 1<<24 {
		limit = 1 << 20
	}
	reserve := max(limit/20, 32)
	if limit <= reserve*2 {
		return int(limit / 2)
	}
	return int(limit - reserve)
}

// portReservation holds a bound, non-listening SO_REUSEPORT socket so that the event
// loops' own SO_REUSEPORT listeners can all bind the same port when port 0 was asked
// for. Close it once the engine is listening.
type portReservation struct{ fd int }

// reservePorts resolves every ":0" bind to a concrete free port and returns the binds
// with ports filled in, plus the reservations to release after the engine started.
func reservePorts(binds []string) ([]string, []portReservation, error) {
	out := make([]string, len(binds))
	var res []portReservation
	for i, b := range binds {
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			return nil, res, fmt.Errorf("eventloop: bad bind address %q: %w", b, err)
		}
		if port != "0" {
			out[i] = b
			continue
		}
		r, p, err := reservePort(host)
		if err != nil {
			return nil, res, err
		}
		res = append(res, r)
		out[i] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return out, res, nil
}

func reservePort(host string) (portReservation, int, error) {
	ip := net.ParseIP(host)
	if host == "" || host == "localhost" {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if ip == nil {
		return portReservation{-1}, 0, fmt.Errorf("eventloop: port 0 needs a literal IP, got %q", host)
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip4 := ip.To4(); ip4 != nil {
		sa = &unix.SockaddrInet4{Addr: [4]byte(ip4)}
	} else {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte(ip.To16())}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return portReservation{-1}, 0, err
	}
	r := portReservation{fd}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		r.close()
		return portReservation{-1}, 0, err
	}
	if err := unix.Bind(fd, sa); err != nil {
		r.close()
		return portReservation{-1}, 0, fmt.Errorf("eventloop: bind %s:0: %w", host, err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		r.close()
		return portReservation{-1}, 0, err
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		return r, a.Port, nil
	case *unix.SockaddrInet6:
		return r, a.Port, nil
	}
	r.close()
	return portReservation{-1}, 0, fmt.Errorf("eventloop: unexpected socket address %T", got)
}

func (r portReservation) close() {
	if r.fd >= 0 {
		_ = unix.Close(r.fd)
	}
}
