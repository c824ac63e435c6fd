package dial

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Config says how to open connections. The zero value of each field has a documented default.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// Sources is how many loopback source addresses to rotate over; if zero, 1 (127.0.0.1
	// only). Used only when Addr is a loopback address.
	Sources int
	// Parallel is the number of dials in flight; if zero, 128.
	Parallel int
	// TLS, when set, runs a TLS handshake on each connection before Setup, which then
	// sees the *tls.Conn.
	TLS *tls.Config
}

// TLSFor returns the client TLS configuration for a URL of scheme https or wss (nil
// for any other), offering protos by ALPN. It trusts any certificate: the benchmark
// servers use the runner's self-signed one.
func TLSFor(scheme string, protos ...string) *tls.Config {
	if scheme != "https" && scheme != "wss" {
		return nil
	}
	return &tls.Config{InsecureSkipVerify: true, NextProtos: protos}
}

// Setup runs on each new connection before it counts as open (a handshake, a first request).
type Setup func(ctx context.Context, c net.Conn) error

// Many opens n connections, running setup on each, and returns those that succeeded with the
// first error seen (nil if all succeeded).
func Many(ctx context.Context, cfg Config, n int, setup Setup) ([]net.Conn, error) {
	parallel := cfg.Parallel
	if parallel <= 0 {
		parallel = 128
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial: bad address %q: %w", cfg.Addr, err)
	}
	loopback := net.ParseIP(host).IsLoopback()
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			conns[i], errs[i] = one(ctx, cfg, loopback, i, setup)
		}()
	}
	wg.Wait()
	return compact(conns), errors.Join(firstErr(errs))
}

func one(ctx context.Context, cfg Config, loopback bool, i int, setup Setup) (net.Conn, error) {
	d := net.Dialer{}
	if loopback && cfg.Sources > 1 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%cfg.Sources))}
		d.Control = bindNoPort
	}
	c, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		tc := tls.Client(c, cfg.TLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	if setup != nil {
		if err := setup(ctx, c); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT so that binding the source address leaves the
// port to connect(), which picks one free for the whole 4-tuple; without it every bind
// searches for a port unused by any connection, which takes seconds per thousand
// connections once tens of thousands are open.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

func compact(cs []net.Conn) []net.Conn {
	out := cs[:0]
	for _, c := range cs {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}

func firstErr(errs []error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
