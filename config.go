package asgo

import (
	"net"

	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/proxy"
	"github.com/asgo-dev/asgo/apps/static"
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
	// Static serves files in front of the app (apps/static; the --static flags): each
	// entry serves its Dir or FS under its Prefix, and what is not a file there goes on
	// to the next entry, the last to the app. Serve sets each entry's Next.
	Static []static.Config
	// IPFilter admits or refuses clients by address (apps/ipfilter; --allow-ip and
	// --deny-ip) before any other middleware or the app sees the request. The zero
	// value admits everyone.
	IPFilter ipfilter.Config
	// Compress configures response compression (--compress, --compress-min-size);
	// without Encodings it is off. It wraps the app and the proxies (middleware.go).
	Compress compress.Config
	// Proxies are forwarding proxies mounted by prefix in front of the app (--proxy
	// /prefix=http://host:port,...); requests below a prefix never reach the app.
	Proxies []proxy.Route
	// Proxy holds what every proxy route shares: timeouts, DownFor, Transport, Logger
	// (default: the server's). Its Upstreams are ignored; each route has its own.
	Proxy proxy.Config
	// ProxyHeaders takes the client address and scheme from the X-Forwarded-For,
	// X-Forwarded-Proto and Forwarded headers of trusted peers (apps/proxyheaders;
	// --proxy-headers, --forwarded-allow-ips). It runs outermost, before the IP filter.
	// The zero value turns it on, trusting 127.0.0.1, as uvicorn does.
	ProxyHeaders ProxyHeadersConfig
	// ReopenAccessLog, if set, reopens the access-log file (Server.AccessLogFile; see
	// eventloop.Server.ReopenAccessLog) each time it receives: the asgo command sends on
	// SIGHUP, for logrotate.
	ReopenAccessLog <-chan struct{}
	// OnReady, if set, is called once every listener is bound, with their addresses
	// (port 0 binds resolved), before Serve starts waiting for its context.
	OnReady func(addrs []net.Addr)

	// MetricsBind, if set, serves Prometheus metrics (/metrics) and a health check
	// (/healthz: 200 while serving, 503 while draining) on this HOST:PORT, a listener
	// of its own apart from the app's routes (--metrics-bind; package metrics). It
	// turns on Server.Stats. The listener opens once the server serves and closes
	// after the drain.
	MetricsBind string
}

// ProxyHeadersConfig configures the proxy-header middleware of Serve.
type ProxyHeadersConfig struct {
	// Disabled turns the middleware off (--proxy-headers=false): proxy headers then
	// reach the app as plain headers and change nothing.
	Disabled bool
	// Trusted lists the peers whose proxy headers are believed: IP addresses, CIDR
	// prefixes, or "*" for any (--forwarded-allow-ips). If empty, 127.0.0.1.
	Trusted []string
}
