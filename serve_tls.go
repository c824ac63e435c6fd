package asgo

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

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

// applyTLS makes srv serve m's TLS config on the TLS addresses tlsListeners chooses.
func applyTLS(srv *eventloop.Config, m *tlsconf.Manager) error {
	if m == nil {
		return nil
	}
	return errors.New("TLS: this build's event loop has no TLS transport")
}

// tlsListeners returns the cleartext and the TLS TCP addresses of srv with TLS on:
// with tlsBinds, srv's binds stay cleartext beside them; without, srv's binds serve
// TLS (uvicorn's --bind with --ssl-certfile), and the default address does when no
// listener of any kind is configured. Unix sockets, inherited and systemd sockets stay
// cleartext.
func tlsListeners(srv eventloop.Config, tlsBinds []string) (clear, secure []string) {
	if len(tlsBinds) > 0 {
		return srv.Binds, tlsBinds
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
