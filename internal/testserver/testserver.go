// Package testserver runs asgo's server in-process for tests outside eventloop: an app
// on 127.0.0.1:0, its address, its log, and the server stopped when the test ends.
// (eventloop's own tests cannot import it, which would be an import cycle; they keep
// their in-package startServer.)
package testserver

import (
	"log/slog"
	"testing"

	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Server is a running eventloop.Server serving a test's app.
type Server struct {
	*eventloop.Server
	// Addr is the host:port the server listens on.
	Addr string
	// Logs is the server's log at debug level; the test's output shows it if the test
	// fails.
	Logs *testutil.LogBuffer
}

// Start serves app with cfg on a free port of 127.0.0.1 and closes the server in
// t.Cleanup. cfg's Binds and Logger are replaced; zero Loops means 2. A server that
// cannot start fails the test. Call from the test goroutine.
func Start(t testing.TB, cfg eventloop.Config, app asgi.App) *Server {
	t.Helper()
	logs := &testutil.LogBuffer{}
	cfg.Binds = []string{"127.0.0.1:0"}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := eventloop.New(cfg, app)
	if err := srv.Start(); err != nil {
		t.Fatalf("starting the server: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &Server{Server: srv, Addr: srv.Addrs()[0].String(), Logs: logs}
}

// URL is the http:// URL of path on the server.
func (s *Server) URL(path string) string { return "http://" + s.Addr + path }
