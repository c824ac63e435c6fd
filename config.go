package asgo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/proxy"
	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/channels"
	redislayer "github.com/asgo-dev/asgo/channels/redis"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/lifespan"
	"github.com/asgo-dev/asgo/tlsconf"
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
	// TLS configures TLS (the --ssl-* flags): the certificate, client certificates,
	// versions and suites, reload (see package tlsconf). When it is enabled (a CertFile
	// or SelfSigned), Serve serves TLS on Server.TLSBinds, or, if there are none, on
	// Server.Binds (which then are TLS, as uvicorn's --bind with --ssl-certfile is); with
	// TLSBinds, Binds stay cleartext (a health port beside :443).
	TLS tlsconf.Config
	// Reload, if set, reloads in place each time it receives (the asgo command sends on
	// SIGHUP): the access-log file is reopened (Server.AccessLogFile, for logrotate; see
	// eventloop.Server.ReopenAccessLog), the level re-read from LogLevelFile, the TLS
	// certificate reloaded, and every ReloadHook run.
	Reload <-chan struct{}
	// Channels configures the channel layer (package channels) that Serve installs as
	// the process's default (channels.Default) before the app starts: in memory
	// unless it names a Redis server (--channel-layer, --instance-name,
	// --channel-expiry).
	Channels ChannelsConfig
	// OnReady, if set, is called once every listener is bound, with their addresses
	// (port 0 binds resolved), before Serve starts waiting for its context.
	OnReady func(addrs []net.Addr)

	// MetricsBind, if set, serves Prometheus metrics (/metrics) and a health check
	// (/healthz: 200 while serving, 503 while draining) on this HOST:PORT, a listener
	// of its own apart from the app's routes (--metrics-bind; package metrics). It
	// turns on Server.Stats. The listener opens once the server serves and closes
	// after the drain. Not with Workers above 1 (each worker would need a port).
	MetricsBind string

	// Reloads, upgrades and worker processes (reload.go, upgrade.go, workers.go).

	// ReloadHooks run on every reload (each receive on Reload: SIGHUP in
	// Command), in order, on Serve's goroutine, after the access log was reopened and
	// the log level re-read. A reload logs one line naming each part reloaded and its
	// error, if any. Append to it before calling Serve (TLS certificates register here).
	ReloadHooks []ReloadHook
	// LogLevel, if set, is the level of the server's logger (Command sets it): a reload
	// re-reads LogLevelFile into it (--log-level-file).
	LogLevel     *slog.LevelVar
	LogLevelFile string
	// Upgrade, if set, starts a zero-downtime upgrade each time it receives (SIGUSR2 in
	// Command): the program (os.Executable as it was at start, so a new binary at the
	// same path) is started again with the same arguments and environment, inherits
	// every listening socket, and once it is ready this one stops accepting, drains
	// and Serve returns nil. A new process that exits or is not ready within
	// UpgradeTimeout (default 90s) is stopped and this one goes on serving. A worker
	// (Workers) not ready within UpgradeTimeout is stopped and started again.
	Upgrade        <-chan struct{}
	UpgradeTimeout time.Duration
	// Workers, above 1, makes Serve a supervisor (--workers): it opens the listeners
	// and runs Workers processes of the same program (marked by the ASGO_WORKER
	// environment variable, in which Serve serves as usual on the inherited sockets),
	// restarts any that dies, and drains them all when ctx is cancelled. The app is
	// not used in the supervisor. The program must reach Serve with the same Config in
	// its workers (asgo.Run and Command do).
	Workers int
}

// ReloadHook is a part of the server that a reload (SIGHUP) refreshes in place. Serve
// calls Reload on its own goroutine, one reload at a time, while the server runs: Reload
// must be safe against the server's concurrent use of what it replaces (swap an
// atomic.Pointer, as a certificate store does).
type ReloadHook struct {
	Name   string       // in the reload's log line, e.g. "tls"
	Reload func() error // called on Serve's goroutine; an error leaves the old state
}

// ProxyHeadersConfig configures the proxy-header middleware of Serve.
type ProxyHeadersConfig struct {
	// Disabled turns the middleware off (--proxy-headers=false): proxy headers then
	// reach the app as plain headers and change nothing.
	Disabled bool
	// Trusted lists the peers whose proxy headers are believed: IP addresses, CIDR
	// prefixes, or "*" for any (--forwarded-allow-ips). If empty, 127.0.0.1. With
	// Server.ProxyProtocol on (and Server.ProxyProtocolTrusted nil), they are also the
	// peers that may send a PROXY protocol header, even when Disabled is set.
	Trusted []string
}

// ChannelsConfig configures the channel layer of Serve.
type ChannelsConfig struct {
	// URL chooses the layer: "" or "memory" for the in-memory layer (one process),
	// redis://[[USER]:PASSWORD@]HOST:PORT[/DB] for the Redis layer shared by every
	// instance that names the same server (--channel-layer). An unreachable Redis
	// makes Serve fail with a *StartupError before anything is served.
	URL string
	// InstanceName names this instance in the cluster, shown by the demo chat and in
	// logs (--instance-name). If empty, hostname:pid.
	InstanceName string
	// Expiry is how long the Redis layer keeps the memberships of an instance that
	// stopped refreshing them (it died) (--channel-expiry). If zero, 60 s.
	Expiry time.Duration
	// Layer, if set, is installed instead of making one from URL; Serve does not close
	// it (a program that shares one layer between several Serve calls).
	Layer channels.Layer
}

// open makes the layer c names; close releases it.
func (c ChannelsConfig) open(ctx context.Context, log *slog.Logger) (l channels.Layer, close func(), err error) {
	if c.Layer != nil {
		return c.Layer, func() {}, nil
	}
	switch {
	case c.URL == "" || c.URL == "memory":
		m := channels.NewMemory(channels.MemoryConfig{Name: c.InstanceName})
		return m, func() { _ = m.Close() }, nil
	case strings.HasPrefix(c.URL, "redis://"):
		r, err := redislayer.New(ctx, redislayer.Config{URL: c.URL, Name: c.InstanceName, Expiry: c.Expiry, Logger: log})
		if err != nil {
			return nil, nil, err
		}
		log.Info("channel layer on Redis", "url", c.URL, "instance", r.Name())
		return r, func() { _ = r.Close() }, nil
	}
	return nil, nil, fmt.Errorf("channel layer %q: want memory or redis://HOST:PORT/DB", c.URL)
}
