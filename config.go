package asgo

import (
	"net"

	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/lifespan"
)

// Config configures Serve. The zero value serves on 127.0.0.1:8000 with the documented
// defaults of every part: each field is that part's own Config, whose zero fields mean
// its defaults.
type Config struct {
	// Server configures the listeners, event loops, timeouts, limits, HTTP/1.1, HTTP/2,
	// WebSocket and logging (the flags of the Network, Timeouts, Limits, HTTP/2,
	// WebSocket and Logging groups). Its State field is set by Serve to the lifespan's
	// state; GracefulTimeout bounds the drain.
	Server eventloop.Config
	// Lifespan sets the lifespan mode (auto, on, off) and the time allowed to the app's
	// startup and shutdown. The shutdown gets its own timeout after the drain, however
	// long the drain took.
	Lifespan lifespan.Config
	// WSGI holds the defaults for WSGI-style apps (apps/wsgi) whose own Config leaves
	// Workers, Backlog or Timeout zero (the --wsgi-* flags); Serve installs them with
	// wsgi.SetDefaults before the app starts.
	WSGI wsgi.Config
	// OnReady, if set, is called once every listener is bound, with their addresses
	// (port 0 binds resolved), before Serve starts waiting for its context.
	OnReady func(addrs []net.Addr)
}
