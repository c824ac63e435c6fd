package eventloop

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"time"

	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/h2"
	"github.com/asgo-dev/asgo/protocol/uwsgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// Config configures a Server. The zero value of every field means the documented
// default; Normalize fills them in once.
type Config struct {
	// Binds are the TCP addresses to listen on ("127.0.0.1:8000"). Port 0 picks a free
	// port; Server.Addrs reports it. If empty, and no other listener below is given,
	// 127.0.0.1:8000 is used. Each event loop has its own SO_REUSEPORT listener.
	Binds []string
	// UnixSockets are paths of Unix domain sockets to listen on. A stale socket file
	// (nothing accepts on it) is replaced; one another process serves is an error.
	// The file gets UnixSocketMode (if zero, 0660) and is removed on shutdown.
	UnixSockets    []string
	UnixSocketMode os.FileMode
	// ListenFDs are inherited listening sockets (descriptor numbers, e.g. 3 for the
	// first of exec.Cmd.ExtraFiles) to serve; the server takes them over and closes
	// them when it stops.
	ListenFDs []int
	// Systemd serves the sockets passed by systemd socket activation (LISTEN_FDS,
	// when LISTEN_PID is this process; the variables are then unset) and, when
	// NOTIFY_SOCKET is set, tells systemd READY=1 once serving and STOPPING=1 when
	// the drain starts.
	//
	// Unix sockets and inherited sockets are accepted on a goroutine each and every
	// connection is handed to an event loop (gnet cannot adopt a listening socket);
	// see docs/ARCHITECTURE.md for the cost.
	Systemd bool
	// UWSGIBinds are uwsgi protocol listeners (nginx's uwsgi_pass): "HOST:PORT" or
	// "unix:PATH". Each connection carries one request, served as an HTTP scope with
	// an HTTP/1.0 response; UWSGI holds the packet limits (its MaxBodyBytes defaults
	// to MaxBodyBytes).
	UWSGIBinds []string
	UWSGI      uwsgi.Config
	// ProxyProtocol requires a PROXY protocol header (v1 or v2: haproxy's send-proxy
	// and send-proxy-v2) at the start of every connection on every listener (TCP
	// binds, Unix sockets, inherited sockets, uwsgi listeners), from peers that
	// ProxyProtocolTrusted admits; other peers are closed as they connect, with a log
	// line. A missing or malformed header, or one that takes longer than
	// HeaderTimeout, closes the connection. The header's source and destination
	// become the scope's client and server (for uwsgi, the client only when the
	// packet has no REMOTE_ADDR); LOCAL, UNSPEC, UNKNOWN and Unix-family headers keep
	// the socket's. Proxy headers (X-Forwarded-For, ...) apply afterwards, to the
	// client the header named.
	ProxyProtocol bool
	// ProxyProtocolTrusted reports whether a peer may send a PROXY header; nil admits
	// loopback addresses only. A Unix socket peer has no address: it is asked about
	// as the zero netip.Addr. It is called on the event loops, concurrently, and must
	// not block. The asgo package builds it from --forwarded-allow-ips.
	ProxyProtocolTrusted func(netip.Addr) bool
	// Inherited, when not empty, are the only listeners: sockets passed by a parent
	// process (a zero-downtime upgrade, or a worker supervisor; see InheritedListener),
	// adopted as ListenFDs are. Binds, UnixSockets, UWSGIBinds, ListenFDs and Systemd's
	// sockets are then not opened (the parent opened them).
	Inherited []InheritedListener
	// TLSBinds are TCP addresses served with TLS (same syntax as Binds); Binds stay
	// cleartext, so one process can serve TLS on one port and cleartext on another.
	// TLS is required with them. Server.Addrs lists them after Binds.
	TLSBinds []string
	// TLS is the configuration of the TLS listeners. It is used as given, for every
	// handshake (its GetCertificate and GetConfigForClient callbacks can change the
	// certificate while the server runs) and must not be modified after Start. If its
	// NextProtos is empty, the server uses a clone offering "h2" and "http/1.1" (only
	// "http/1.1" with DisableHTTP2). A connection that negotiates "h2" speaks HTTP/2;
	// any other speaks HTTP/1.1 (with WebSocket upgrades: wss://).
	TLS *tls.Config
	// HandshakeTimeout closes a TLS connection whose handshake has not completed this
	// long after the connection opened. If zero, 10 s is used.
	HandshakeTimeout time.Duration
	// Loops is the number of event loops. If zero, runtime.NumCPU() is used.
	Loops int

	// HeaderTimeout bounds the time from a request's first byte (or the connection's
	// opening) to the end of its head: slow-header (Slowloris) clients are answered 408
	// and closed. If zero, 10 s is used.
	HeaderTimeout time.Duration
	// KeepAliveTimeout closes a connection that stays idle between requests. If zero,
	// 5 s is used.
	KeepAliveTimeout time.Duration
	// BodyTimeout closes a connection whose request body stalls for this long. If zero,
	// 30 s is used.
	BodyTimeout time.Duration
	// LingerTimeout is how long a connection the server ends keeps reading, and
	// discarding, the client's input after its last output has been written and its
	// write side shut: input still in flight then cannot make the kernel reset the
	// connection before the client has read the response. The connection closes at
	// the client's EOF or after this long. If zero, 2 s is used; negative closes at
	// once.
	LingerTimeout time.Duration

	// MaxConnections caps open connections; beyond it new connections are answered 503
	// and closed, which keeps the process away from the open-file limit. If zero, the
	// open-file limit minus a reserve of 5% (at least 32) is used.
	MaxConnections int
	// LimitConcurrency answers 503 to requests beyond this many in flight. An open
	// WebSocket counts as one from its upgrade until its app has returned and its
	// connection has closed; an upgrade beyond the limit gets 503 before the app sees
	// it. Zero means no limit.
	LimitConcurrency int
	// MaxBodyBytes answers 413 to requests whose body exceeds it. Zero means no limit
	// (bodies stream to the app; what it does not consume yet is spooled to disk).
	MaxBodyBytes int64
	// BodyMemoryBytes is how many unconsumed request-body bytes a stream keeps in memory
	// before spooling to a temporary file. If zero, 256 KiB is used.
	BodyMemoryBytes int
	// BodyMemoryShared is a server-wide allowance on top of BodyMemoryBytes: a stream
	// over its own limit keeps buffering in memory while all streams together hold less
	// than this beyond their limits, each borrowing at most a 32nd of it, and spools
	// only after that. Uploads that outrun a busy app (on one core the loop reads ahead
	// of the app) then stay off the disk, while the memory a flood of uploads can take
	// stays bounded by streams x BodyMemoryBytes + BodyMemoryShared. If zero, 64 MiB is
	// used (2 MiB per stream); negative means none (spool at BodyMemoryBytes).
	BodyMemoryShared int64
	// BodySpoolBytes caps the request-body bytes one request may have spooled to disk
	// (what its app has not consumed, beyond the memory above). A body that goes
	// further is refused and not read any further: 413 with Connection: close if the
	// response has not started, else the connection is aborted. The same happens to a
	// body that cannot be spooled (temporary directory full or unusable), answered 503.
	// If zero, 256 MiB is used: an app that reads its body streams uploads of any size
	// through a small spool, while one client sending to an app that does not read (or
	// that waits in a queue, such as the WSGI-style backlog) cannot fill a small
	// machine's disk. Negative means no limit.
	BodySpoolBytes int64
	// BodySpoolShared caps the spool of all requests together; a request whose body
	// would go beyond it is refused as above, with 503. If zero, 1 GiB is used: four
	// requests at their own quota, which the temporary directory of a small machine
	// (often a tmpfs, that is memory) can hold. Negative means no limit.
	BodySpoolShared int64
	// MaxPipelinedBytes caps the input a connection may send ahead while its current
	// request is being answered (pipelined requests wait unparsed, and gnet cannot
	// stop reading); a client that sends more without reading is disconnected. If
	// zero, 1 MiB is used.
	MaxPipelinedBytes int
	// WriteHighWater makes Send block while a connection has more unsent bytes than
	// this. If zero, 256 KiB is used. Send resumes below WriteLowWater (if zero, a
	// quarter of the high-water mark).
	WriteHighWater int
	WriteLowWater  int
	// MaxUnsentBytes closes a connection whose unsent output keeps growing beyond it
	// without draining: bytes queued while it already holds more than this unsent,
	// as much again as the limit, close it with a log line. Senders on goroutines
	// block at WriteHighWater and WebSocket SendNow refuses above it, so this stops
	// producers that cannot block: pipelined requests answered on the loop
	// (asgi.Inliner) and HTTP/2 streams a client keeps opening without reading. A
	// single large message crossing the limit is accepted. If zero, the larger of 16 x
	// WriteHighWater and 4 MiB is used: the socket and gnet take output the loop only
	// sees at its next write, so a sender that respected WriteHighWater can still find
	// a few MiB unsent.
	MaxUnsentBytes int
	// SendTimeout closes a connection whose unsent output makes no progress for this
	// long: a client that stops reading a response (HTTP/1.1, HTTP/2 whatever its
	// flow-control windows allow, WebSocket). The loop polls such connections on its
	// timer tick while output is pending. If zero, 60 s is used (nginx's
	// send_timeout); negative turns it off.
	SendTimeout time.Duration

	// HTTP1 limits the request head.
	HTTP1 h1.Config
	// HTTP2 holds the HTTP/2 limits (streams, frame size, windows, header list, abuse
	// budgets); zero fields mean h2's defaults. DisableHTTP2 turns off h2c (prior
	// knowledge and Upgrade: h2c); such connections are then treated as HTTP/1.1.
	HTTP2        h2.Config
	DisableHTTP2 bool
	// WebSocket holds the WebSocket limits, timeouts and compression options.
	WebSocket websocket.Config

	// RootPath is the ASGI root_path put into every scope.
	RootPath string
	// State returns the lifespan state to copy into every scope; nil means none.
	State func() map[string]any
	// AccessLog logs one line per request (and per WebSocket).
	AccessLog bool
	// AccessLogFormat is the access-log line: empty for the default, uvicorn's shape
	// (127.0.0.1:50312 - "GET /items?page=2 HTTP/1.1" 200); "common" or "combined"
	// (Apache's); "json" (one object per line: remote_addr, time, request, method, path,
	// query, protocol, status, bytes, referer, user_agent, duration_us, pid); or a
	// format of gunicorn's atoms: %(h)s remote address, %(l)s and %(u)s '-', %(t)s
	// [10/Oct/2000:13:55:36 -0700], %(r)s request line, %(m)s method, %(U)s path, %(q)s
	// query, %(H)s protocol, %(s)s status, %(B)s response body bytes (%(b)s: '-' for
	// none), %(f)s referer, %(a)s user agent, %(T)s, %(D)s, %(M)s, %(L)s request time
	// in seconds, microseconds, milliseconds, decimal seconds, %(p)s <pid>,
	// %({name}i)s a request header; %({name}o)s (response headers) is accepted but
	// always '-'. %% is a percent sign. Values from the request escape '"', '\' and
	// control bytes (\xHH). WebSocket lines have method GET, no headers, and status 101
	// or the refusal's. New checks it; Start reports an invalid one
	// (CheckAccessLogFormat checks it beforehand).
	AccessLogFormat string
	// AccessLogFile, if set, is the file the lines are appended to (created 0644),
	// instead of the Logger at info level; Server.ReopenAccessLog opens it again (for
	// logrotate). AccessLogWriter is another destination, used when AccessLogFile is
	// empty; if it has a Reopen() error method, ReopenAccessLog calls it. Either way the
	// lines go through a queue of AccessLogQueueBytes (default 1 MiB) written out by
	// one goroutine: a slow destination never blocks a loop; when the queue is full,
	// lines are dropped, and their count is logged at most once per second.
	AccessLogFile       string
	AccessLogWriter     io.Writer
	AccessLogQueueBytes int
	// Logger receives server logs; nil means slog.Default().
	Logger *slog.Logger

	// GracefulTimeout bounds Shutdown's drain when its context has no deadline. If
	// zero, 30 s is used.
	GracefulTimeout time.Duration

	// Stats turns on the per-loop counters that Server.Stats reports (requests,
	// durations, connections, WebSocket messages, HTTP/2 resets, rejections, loop
	// lag); asgo's --metrics-bind sets it. Off, the hot paths skip them.
	Stats bool
}

const (
	defaultBind             = "127.0.0.1:8000"
	defaultUnixSocketMode   = 0o660
	defaultHeaderTimeout    = 10 * time.Second
	defaultHandshakeTimeout = 10 * time.Second
	defaultKeepAliveTimeout = 5 * time.Second
	defaultBodyTimeout      = 30 * time.Second
	defaultLingerTimeout    = 2 * time.Second
	defaultBodyMemory       = 256 << 10
	defaultBodyShared       = 64 << 20
	defaultWriteHighWater   = 256 << 10
	defaultMaxPipelined     = 1 << 20
	defaultBodySpool        = 256 << 20
	defaultBodySpoolShared  = 1 << 30
	defaultSendTimeout      = 60 * time.Second
	minMaxUnsent            = 4 << 20
	defaultGracefulTimeout  = 30 * time.Second
	defaultAccessLogQueue   = 1 << 20
)

// Normalize returns cfg with every zero field replaced by its default.
func (cfg Config) Normalize() Config {
	if len(cfg.Binds) == 0 && len(cfg.TLSBinds) == 0 && len(cfg.UnixSockets) == 0 && len(cfg.ListenFDs) == 0 && len(cfg.UWSGIBinds) == 0 && !cfg.Systemd && len(cfg.Inherited) == 0 {
		cfg.Binds = []string{defaultBind}
	}
	if cfg.UnixSocketMode == 0 {
		cfg.UnixSocketMode = defaultUnixSocketMode
	}
	if cfg.Loops <= 0 {
		cfg.Loops = runtime.NumCPU()
	}
	setDefault(&cfg.HeaderTimeout, defaultHeaderTimeout)
	setDefault(&cfg.HandshakeTimeout, defaultHandshakeTimeout)
	setDefault(&cfg.KeepAliveTimeout, defaultKeepAliveTimeout)
	setDefault(&cfg.BodyTimeout, defaultBodyTimeout)
	if cfg.LingerTimeout == 0 {
		cfg.LingerTimeout = defaultLingerTimeout // negative stays: no lingering
	}
	setDefault(&cfg.GracefulTimeout, defaultGracefulTimeout)
	setDefault(&cfg.AccessLogQueueBytes, defaultAccessLogQueue)
	setDefault(&cfg.BodyMemoryBytes, defaultBodyMemory)
	if cfg.BodyMemoryShared == 0 {
		cfg.BodyMemoryShared = defaultBodyShared // negative stays: none, and Normalize stays idempotent
	}
	setDefault(&cfg.WriteHighWater, defaultWriteHighWater)
	setDefault(&cfg.MaxPipelinedBytes, defaultMaxPipelined)
	// Negative stays (no limit, turned off), so Normalize stays idempotent.
	if cfg.BodySpoolBytes == 0 {
		cfg.BodySpoolBytes = defaultBodySpool
	}
	if cfg.BodySpoolShared == 0 {
		cfg.BodySpoolShared = defaultBodySpoolShared
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = defaultSendTimeout
	}
	setDefault(&cfg.MaxUnsentBytes, max(16*cfg.WriteHighWater, minMaxUnsent))
	if cfg.WriteLowWater <= 0 || cfg.WriteLowWater >= cfg.WriteHighWater {
		cfg.WriteLowWater = cfg.WriteHighWater / 4
	}
	cfg.HTTP1 = cfg.HTTP1.Normalize()
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = defaultMaxConnections()
	}
	cfg.WebSocket = cfg.WebSocket.Normalize()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
