package asgo

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/tlsconf"
)

// loadTLS loads cfg (nil, nil when TLS is off), logging through log unless cfg has a
// logger of its own. The Manager's goroutine runs until its Close.
func loadTLS(cfg tlsconf.Config, log *slog.Logger) (*tlsconf.Manager, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	if cfg.Logger == nil {
		cfg.Logger = log
	}
	m, err := tlsconf.Load(cfg)
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return m, nil
}

// applyTLS makes srv serve m's TLS config on the TCP addresses tlsListeners chooses.
// Without m, srv is left as it is (a program may set Server.TLS itself).
func applyTLS(srv *eventloop.Config, m *tlsconf.Manager) error {
	if m == nil {
		return nil
	}
	if srv.TLS != nil {
		return errors.New("TLS: both Config.TLS and Config.Server.TLS are set; use one")
	}
	srv.Binds, srv.TLSBinds = tlsListeners(*srv)
	if len(srv.TLSBinds) == 0 {
		return errors.New("TLS: no TCP listener to serve it on (Unix, inherited and systemd sockets stay cleartext); add --ssl-bind HOST:PORT")
	}
	cfg := m.TLSConfig()
	if len(cfg.NextProtos) == 0 {
		// Set here rather than by the event loop, which would serve a Clone: a clone
		// keeps the session ticket keys of the moment it was made, and the rotation
		// would not reach it.
		cfg.NextProtos = []string{"h2", "http/1.1"}
		if srv.DisableHTTP2 {
			cfg.NextProtos = []string{"http/1.1"}
		}
	}
	srv.TLS = cfg
	return nil
}

// logTLSListeners logs the TLS listeners as https:// URLs, in one line. addrs are the
// server's (Binds first, then TLSBinds: eventloop.Server.Addrs).
func logTLSListeners(log *slog.Logger, srv eventloop.Config, addrs []net.Addr) {
	first, n := len(srv.Binds), len(srv.TLSBinds)
	if n == 0 || len(addrs) < first+n {
		return
	}
	urls := make([]string, 0, n)
	for _, a := range addrs[first : first+n] {
		urls = append(urls, "https://"+a.String())
	}
	log.Info("serving TLS", "urls", strings.Join(urls, ","))
}

// tlsListeners returns the cleartext and the TLS TCP addresses of srv with TLS on:
// with TLSBinds, srv's Binds stay cleartext beside them; without, srv's binds serve
// TLS (uvicorn's --bind with --ssl-certfile), and the default address does when no
// listener of any kind is configured. Unix sockets, inherited and systemd sockets stay
// cleartext.
func tlsListeners(srv eventloop.Config) (clear, secure []string) {
	if len(srv.TLSBinds) > 0 {
		return srv.Binds, srv.TLSBinds
	}
	if len(srv.Binds) > 0 {
		return nil, srv.Binds
	}
	systemd := srv.Systemd && os.Getenv("LISTEN_FDS") != "" // sockets passed: they are the listeners
	if len(srv.UnixSockets) == 0 && len(srv.ListenFDs) == 0 && len(srv.UWSGIBinds) == 0 && !systemd {
		return nil, []string{defaultAddr}
	}
	return nil, nil
}

// defaultAddr is where Serve listens when no listener is configured (eventloop's
// default too).
const defaultAddr = "127.0.0.1:8000"
