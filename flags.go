package asgo

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/proxy"
	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/lifespan"
)

var errHelp = errors.New("help requested")

// options is everything the serve command line sets.
type options struct {
	app      string // --app, when the command offers several apps
	logLevel slog.Level
	config   Config
}

// bindList is a repeatable --bind flag.
type bindList []string

func (b *bindList) String() string { return strings.Join(*b, ",") }
func (b *bindList) Set(v string) error {
	*b = append(*b, v)
	return nil
}

type flagGroup struct {
	title string
	names []string
}

var serveGroups = []flagGroup{
	{"Application", []string{"app", "root-path", "lifespan"}},
	{"Network", []string{"bind", "uds", "uds-mode", "fd", "systemd", "uwsgi-bind", "loops", "max-connections"}},
	{"Timeouts", []string{"timeout-header", "timeout-keep-alive", "timeout-body", "timeout-send", "timeout-linger", "timeout-graceful-shutdown",
		"timeout-lifespan-startup", "timeout-lifespan-shutdown"}},
	{"Limits", []string{"limit-concurrency", "max-body-size", "max-spool-size", "max-spool-total", "max-unsent-size",
		"max-head-size", "max-headers"}},
	{"HTTP/2", []string{"http2", "h2-max-concurrent-streams", "h2-max-frame-size", "h2-stream-window", "h2-conn-window",
		"h2-max-header-list-size", "h2-max-resets", "h2-max-control-frames"}},
	{"WebSocket", []string{"ws-max-size", "ws-max-frame-size", "ws-max-queue", "ws-handshake-timeout", "ws-ping-interval", "ws-ping-timeout",
		"ws-close-timeout", "ws-per-message-deflate", "ws-compression-level", "ws-compression-threshold",
		"ws-client-context-takeover", "ws-allowed-origin"}},
	{"Middleware", []string{"static", "static-index", "static-cache-control", "allow-ip", "deny-ip",
		"compress", "compress-min-size", "proxy", "proxy-connect-timeout", "proxy-head-timeout"}},
	{"Proxy headers", []string{"proxy-headers", "forwarded-allow-ips", "proxy-protocol"}},
	{"TLS", tlsFlagNames},
	{"WSGI-style apps", []string{"wsgi-workers", "wsgi-backlog", "wsgi-timeout"}},
	{"Channel layer", []string{"channel-layer", "instance-name", "channel-expiry"}},
	{"Logging", []string{"log-level", "log-level-file", "access-log", "access-log-format", "access-log-file"}},
	{"Metrics", []string{"metrics-bind"}},
	{"Processes", []string{"workers", "timeout-upgrade"}},
}

// parseFlags parses the serve command line of the command called name. With apps, it
// takes --app (one of apps, default defaultApp); without, it has no --app flag.
func parseFlags(name string, apps []string, defaultApp string, args []string, stderr io.Writer) (options, error) {
	var o options
	var binds, udsPaths, uwsgiBinds, tlsBinds, origins, statics, allowIPs, denyIPs bindList
	var staticIndex, staticCache string
	var wsDeflate, http2 bool
	var logLevel, lifespanMode string
	cfg := &o.config.Server
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if len(apps) > 0 {
		fs.StringVar(&o.app, "app", defaultApp, "app to serve: "+strings.Join(apps, ", ")+" (default "+defaultApp+")")
	}
	fs.StringVar(&cfg.RootPath, "root-path", "", "ASGI root_path for apps mounted below a URL prefix")
	fs.StringVar(&lifespanMode, "lifespan", "auto", "lifespan protocol: auto, on or off (default auto)")
	fs.Var(&binds, "bind", "address to listen on, `HOST:PORT` (repeatable; port 0 picks a free port; default 127.0.0.1:8000 when no --uds, --fd or systemd socket is given)")
	fs.Var(&udsPaths, "uds", "listen on the Unix domain socket `PATH` (repeatable; a stale socket file is replaced; removed on shutdown)")
	fs.Func("uds-mode", "permissions of the --uds socket files, octal `MODE` (default 0660)", func(v string) error {
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m == 0 || m > 0o777 {
			return errors.New("want an octal mode such as 0660")
		}
		cfg.UnixSocketMode = os.FileMode(m)
		return nil
	})
	fs.Func("fd", "serve the inherited listening socket `N` (repeatable; e.g. 3 for the first passed descriptor)", func(v string) error {
		for _, e := range splitList([]string{v}) { // ASGO_FD=3,4
			n, err := strconv.Atoi(e)
			if err != nil || n < 0 {
				return errors.New("want a file descriptor number")
			}
			cfg.ListenFDs = append(cfg.ListenFDs, n)
		}
		return nil
	})
	fs.BoolVar(&cfg.Systemd, "systemd", true, "serve the sockets of systemd socket activation (LISTEN_FDS) and send sd_notify READY=1/STOPPING=1 when NOTIFY_SOCKET is set (default true)")
	fs.Var(&uwsgiBinds, "uwsgi-bind", "serve the uwsgi protocol (nginx uwsgi_pass) on `ADDR`, HOST:PORT or unix:PATH (repeatable; one request per connection)")
	fs.BoolVar(&cfg.ProxyProtocol, "proxy-protocol", false, "every connection on every listener starts with a PROXY protocol v1/v2 header (haproxy send-proxy[-v2]) from a --forwarded-allow-ips peer, which gives the client's address; others are closed")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops (0: one per CPU)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", 0, "open connections beyond which new ones get 503 (0: the open-file limit minus a reserve)")
	fs.DurationVar(&cfg.HeaderTimeout, "timeout-header", 0, "time allowed to send a request head (default 10s)")
	fs.DurationVar(&cfg.KeepAliveTimeout, "timeout-keep-alive", 0, "close keep-alive connections idle this long (default 5s)")
	fs.DurationVar(&cfg.BodyTimeout, "timeout-body", 0, "close connections whose request body stalls this long (default 30s)")
	fs.DurationVar(&cfg.SendTimeout, "timeout-send", 0, "close connections whose unsent output makes no progress this long: clients that stop reading (default 60s, as nginx's send_timeout; negative: off)")
	fs.DurationVar(&cfg.LingerTimeout, "timeout-linger", 0, "after a connection's last response, read and discard input this long before closing, so late input cannot reset it (default 2s; negative: close at once)")
	fs.DurationVar(&cfg.GracefulTimeout, "timeout-graceful-shutdown", 0, "time allowed to drain connections on SIGTERM/SIGINT (default 30s)")
	life := &o.config.Lifespan
	fs.DurationVar(&life.StartupTimeout, "timeout-lifespan-startup", 0, "time allowed to the app's lifespan startup (default 60s)")
	fs.DurationVar(&life.ShutdownTimeout, "timeout-lifespan-shutdown", 0, "time allowed to the app's lifespan shutdown, after the drain however long it took (default 30s)")
	fs.IntVar(&cfg.LimitConcurrency, "limit-concurrency", 0, "answer 503 beyond this many requests in flight (0: no limit)")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-size", 0, "answer 413 to request bodies larger than this many bytes (0: no limit)")
	fs.Int64Var(&cfg.BodySpoolBytes, "max-spool-size", 0, "request-body bytes one request may spool to disk while its app does not read them; beyond, 413 (or abort if the response started) and the rest is not read (default 256 MiB; negative: no limit)")
	fs.Int64Var(&cfg.BodySpoolShared, "max-spool-total", 0, "request-body bytes all requests together may spool to disk; beyond, 503 (default 1 GiB; negative: no limit)")
	fs.IntVar(&cfg.MaxUnsentBytes, "max-unsent-size", 0, "close a connection whose unsent output keeps growing beyond this many bytes without draining (default 4 MiB: the larger of 4 MiB and 16x the 256 KiB at which sends wait)")
	fs.IntVar(&cfg.HTTP1.MaxHeadBytes, "max-head-size", 0, "request line plus headers, in bytes; larger heads get 431 (default 65536)")
	fs.IntVar(&cfg.HTTP1.MaxHeaders, "max-headers", 0, "header fields per request; more get 431 (default 100)")
	h2 := &cfg.HTTP2
	fs.BoolVar(&http2, "http2", true, "serve HTTP/2 cleartext (prior knowledge and Upgrade: h2c) on the same port (default true)")
	uint32Var(fs, &h2.MaxConcurrentStreams, "h2-max-concurrent-streams", "streams open at once per connection; more get REFUSED_STREAM (default 100)")
	uint32Var(fs, &h2.MaxFrameSize, "h2-max-frame-size", "largest frame payload accepted, 16384-16777215 (default 16384)")
	uint32Var(fs, &h2.StreamWindow, "h2-stream-window", "receive window per stream in bytes: body the app has not consumed yet (default 256 KiB)")
	uint32Var(fs, &h2.ConnWindow, "h2-conn-window", "receive window per connection in bytes (default 1 MiB)")
	uint32Var(fs, &h2.MaxHeaderListSize, "h2-max-header-list-size", "decoded request header bytes; more get 431 (default 64 KiB)")
	fs.IntVar(&h2.MaxResets, "h2-max-resets", 0, "stream resets a connection may cause before GOAWAY ENHANCE_YOUR_CALM (Rapid Reset; default 200)")
	fs.IntVar(&h2.MaxControlFrames, "h2-max-control-frames", 0, "PING/SETTINGS/empty frames per second before GOAWAY ENHANCE_YOUR_CALM (default 1000)")
	ws := &cfg.WebSocket
	fs.IntVar(&ws.MaxMessageSize, "ws-max-size", 0, "largest WebSocket message in bytes, also after decompression; larger closes with 1009 (default 16 MiB)")
	fs.IntVar(&ws.MaxFrameSize, "ws-max-frame-size", 0, "largest WebSocket frame payload in bytes (default: --ws-max-size)")
	fs.IntVar(&ws.MaxQueuedMessages, "ws-max-queue", 0, "received messages that may wait for the app per connection (default 32)")
	fs.DurationVar(&ws.HandshakeTimeout, "ws-handshake-timeout", 0, "answer 500 when the app takes longer to accept or refuse a WebSocket; negative turns it off (default 10s)")
	fs.DurationVar(&ws.PingInterval, "ws-ping-interval", 0, "ping peers silent this long; negative turns pings off (default 20s)")
	fs.DurationVar(&ws.PingTimeout, "ws-ping-timeout", 0, "close with 1011 when a pong takes longer; negative turns it off (default 20s)")
	fs.DurationVar(&ws.CloseTimeout, "ws-close-timeout", 0, "wait this long for the peer's close frame (default 5s)")
	fs.BoolVar(&wsDeflate, "ws-per-message-deflate", true, "negotiate permessage-deflate compression (default true)")
	fs.IntVar(&ws.CompressionLevel, "ws-compression-level", 0, "flate level 1-9 for outbound messages (default 1)")
	fs.IntVar(&ws.CompressionThreshold, "ws-compression-threshold", 0, "send messages smaller than this uncompressed; negative compresses all (default 256)")
	fs.BoolVar(&ws.ClientContextTakeover, "ws-client-context-takeover", false, "let clients keep their compression window between messages (32 KiB per connection)")
	fs.Var(&origins, "ws-allowed-origin", "`ORIGIN` allowed to open a WebSocket (repeatable; others get 403; default: any)")
	fs.Var(&statics, "static", "serve the files of DIR under /PREFIX in front of the app, `/PREFIX=DIR` (repeatable; what is not a file goes on to the app)")
	fs.StringVar(&staticIndex, "static-index", "", "`FILE` served for a directory of --static (e.g. index.html; default: none, directories are not found)")
	fs.StringVar(&staticCache, "static-cache-control", "", "Cache-Control `VALUE` of --static files (e.g. \"public, max-age=3600\"; default: none)")
	fs.Var(&allowIPs, "allow-ip", "admit only clients in these `IP|CIDR`s (repeatable or comma-separated; others get 403)")
	fs.Var(&denyIPs, "deny-ip", "refuse clients in these `IP|CIDR`s with 403 (repeatable or comma-separated; wins over --allow-ip)")
	proxyHeaders := proxyHeadersFlags(fs, &o.config.ProxyHeaders)
	checkTLS := tlsFlags(fs, &o.config.TLS, &tlsBinds)
	fs.IntVar(&o.config.WSGI.Workers, "wsgi-workers", 0, "WSGI-style handlers running at once (default 10)")
	fs.IntVar(&o.config.WSGI.Backlog, "wsgi-backlog", 0, "requests that may wait for a place; beyond it 503 with Retry-After (default 64; negative: no queue)")
	fs.DurationVar(&o.config.WSGI.Timeout, "wsgi-timeout", 0, "abort WSGI-style handlers running longer (504 if nothing was sent; default 30s; negative: no limit)")
	fs.Func("compress", "compress responses with the encodings of `LIST`, most preferred first: gzip, br, zstd (e.g. br,gzip; default: off)", func(v string) error {
		encs, err := compress.ParseEncodings(v)
		o.config.Compress.Encodings = encs
		return err
	})
	fs.IntVar(&o.config.Compress.MinSize, "compress-min-size", 0, fmt.Sprintf("smallest body compressed, in bytes (default %d; negative: all)", compress.DefaultMinSize))
	fs.Func("proxy", "forward requests and WebSockets below a prefix to upstreams, round robin; `ROUTE` is /PREFIX=http://HOST:PORT[,http://HOST2:PORT] (repeatable)", func(v string) error {
		r, err := proxy.ParseRoute(v)
		if err == nil {
			o.config.Proxies = append(o.config.Proxies, r)
		}
		return err
	})
	fs.DurationVar(&o.config.Proxy.ConnectTimeout, "proxy-connect-timeout", 0, "time allowed to connect to an upstream; a failing upstream is skipped for 10s (default 5s)")
	fs.DurationVar(&o.config.Proxy.HeadTimeout, "proxy-head-timeout", 0, "time allowed to an upstream's response head after the request body; then 504 (default 60s)")
	chl := &o.config.Channels
	fs.Func("channel-layer", "the channel layer of WebSocket groups (the demo chat's rooms): memory, or `URL` redis://HOST:PORT/DB to share groups with every instance on that Redis (default memory)", func(v string) error {
		if v != "memory" && !strings.HasPrefix(v, "redis://") {
			return errors.New("want memory or redis://HOST:PORT/DB")
		}
		chl.URL = v
		return nil
	})
	fs.StringVar(&chl.InstanceName, "instance-name", "", "this instance's `NAME` in the cluster, shown by /chat.html and in logs (default hostname:pid)")
	fs.Func("channel-expiry", "the Redis layer drops the group memberships of an instance that stopped refreshing them (died) after this `duration`, at least 1s (default 60s)", func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return errors.New("want a duration of at least 1s, such as 30s")
		}
		chl.Expiry = d
		return nil
	})
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error (default info)")
	fs.BoolVar(&cfg.AccessLog, "access-log", true, "log one line per request (default true)")
	fs.Func("access-log-format", "access-log line `FORMAT`: common, combined, json, or gunicorn's atoms, e.g. '%(h)s %(t)s \"%(r)s\" %(s)s %(b)s %(D)s' "+
		"(h r m U q H s B b f a T D M L p t l u, %({header}i)s; %({header}o)s is always '-'; default: uvicorn's line)", func(v string) error {
		cfg.AccessLogFormat = v
		return eventloop.CheckAccessLogFormat(v)
	})
	fs.StringVar(&cfg.AccessLogFile, "access-log-file", "", "append access-log lines to `PATH` through a 1 MiB queue (full: lines are dropped and counted); reopened on SIGHUP (default: stderr through the logger)")
	// Reloads, upgrades and worker processes (reload.go, upgrade.go, workers.go).
	fs.StringVar(&o.config.LogLevelFile, "log-level-file", "", "read the log level (debug, info, warn, error) from `PATH` at start and on every SIGHUP; wins over --log-level")
	fs.IntVar(&o.config.Workers, "workers", 1, "worker processes sharing the listeners under a supervisor that restarts them (1: this process serves; default 1)")
	fs.DurationVar(&o.config.UpgradeTimeout, "timeout-upgrade", 0, "time allowed to the new process of a SIGUSR2 upgrade (or a --workers worker) to be ready; then it is stopped and the old one goes on (default 90s)")
	fs.StringVar(&o.config.MetricsBind, "metrics-bind", "", "serve Prometheus metrics on /metrics and a health check on /healthz (503 while draining) at `HOST:PORT`, a listener apart from the app (default: off)")
	fs.Usage = func() {} // help is printed below; errors get a short hint

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stderr, fs, name)
			return o, errHelp
		}
		fmt.Fprintf(stderr, "%s: %v\n\nRun '%s --help' for the flags.\n", name, err, name)
		return o, err
	}
	if err := applyEnv(fs, name, stderr); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return o, errors.New("unexpected argument")
	}
	cfg.Binds = binds
	cfg.UnixSockets = udsPaths
	cfg.UWSGIBinds = uwsgiBinds
	cfg.TLSBinds = tlsBinds
	for _, v := range statics {
		prefix, dir, ok := strings.Cut(v, "=")
		if !ok || !strings.HasPrefix(prefix, "/") || dir == "" {
			fmt.Fprintf(stderr, "%s: --static %q: want /PREFIX=DIR\n", name, v)
			return o, errors.New("bad --static")
		}
		o.config.Static = append(o.config.Static, static.Config{Prefix: prefix, Dir: dir, Index: staticIndex, CacheControl: staticCache})
	}
	o.config.IPFilter = ipfilter.Config{Allow: splitList(allowIPs), Deny: splitList(denyIPs)}
	if _, err := ipfilter.NewFilter(o.config.IPFilter); err != nil {
		fmt.Fprintf(stderr, "%s: --allow-ip/--deny-ip: %v\n", name, err)
		return o, err
	}
	if err := proxyHeaders(); err != nil {
		fmt.Fprintf(stderr, "%s: --forwarded-allow-ips: %v\n", name, err)
		return o, err
	}
	if err := checkTLS(); err != nil {
		fmt.Fprintf(stderr, "%s: TLS: %v\n", name, err)
		return o, err
	}
	ws.AllowedOrigins = origins
	ws.DisableCompression = !wsDeflate
	cfg.DisableHTTP2 = !http2
	if err := o.logLevel.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(stderr, "%s: --log-level: %v\n", name, err)
		return o, err
	}
	if o.config.LogLevelFile != "" {
		level, err := readLevelFile(o.config.LogLevelFile)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --log-level-file: %v\n", name, err)
			return o, err
		}
		o.logLevel = level
	}
	if o.config.Workers < 1 {
		fmt.Fprintf(stderr, "%s: --workers %d: want 1 or more\n", name, o.config.Workers)
		return o, errors.New("bad --workers")
	}
	mode, err := lifespan.ParseMode(lifespanMode)
	if err != nil {
		fmt.Fprintf(stderr, "%s: --lifespan: %v\n", name, err)
		return o, err
	}
	life.Mode = mode
	return o, nil
}

func printUsage(w io.Writer, fs *flag.FlagSet, name string) {
	fmt.Fprintf(w, "Usage: %s [flags]\n\nServes HTTP/1.1, HTTP/2 (h2c) and WebSocket on gnet event loops. With no flags: http://127.0.0.1:8000 (or the sockets systemd passes).\n", name)
	for _, g := range serveGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.names {
			f := fs.Lookup(name)
			if f == nil {
				continue
			}
			arg, help := flag.UnquoteUsage(f)
			if arg == "value" {
				arg = "uint" // uint32Var flags
			}
			if arg != "" {
				arg = " " + arg
			}
			fmt.Fprintf(w, "  --%-38s %s\n", name+arg, help)
		}
	}
	fmt.Fprint(w, envUsage)
	fmt.Fprint(w, "\nSignals: SIGTERM or SIGINT drains gracefully; a second signal exits at once. SIGHUP reloads: reopens --access-log-file,\n"+
		"re-reads --log-level-file (and TLS certificates). SIGUSR2 upgrades without downtime: the program is started again on the same\n"+
		"sockets and this process drains once the new one is ready. With --workers, signal the supervisor.\n")
}

// splitList splits comma-separated flag values into their entries.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// uint32Var defines a flag for a uint32 field (zero keeps the package default).
func uint32Var(fs *flag.FlagSet, p *uint32, name, usage string) {
	fs.Func(name, usage, func(v string) error {
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return fmt.Errorf("want a number from 0 to %d", uint32(math.MaxUint32))
		}
		*p = uint32(n)
		return nil
	})
}
