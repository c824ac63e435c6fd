package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Defaults of Config's zero fields.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultHeadTimeout    = 60 * time.Second
	DefaultDownFor        = 10 * time.Second
	DefaultMaxMessageSize = 16 << 20
)

// Config configures a Proxy. Zero durations and sizes mean the defaults above.
type Config struct {
	// Upstreams are the base URLs requests go to, "http://host:port" with an optional
	// path; at least one. WebSocket scopes go to the same URLs with ws://.
	Upstreams []string
	// ConnectTimeout bounds the TCP connect (and the WebSocket handshake).
	ConnectTimeout time.Duration
	// HeadTimeout bounds the wait for the response head once the request body was
	// sent; past it the client gets 504.
	HeadTimeout time.Duration
	// DownFor is how long an upstream that failed to connect or timed out is skipped.
	DownFor time.Duration
	// MaxMessageSize bounds a WebSocket message from the upstream.
	MaxMessageSize int64
	// Transport carries the HTTP requests. Nil: an http.Transport of the proxy's own
	// with ConnectTimeout, no automatic decompression and 64 idle connections per
	// upstream.
	Transport http.RoundTripper
	// Logger receives the upstream-down lines. Nil: slog.Default().
	Logger *slog.Logger
}

// Route is one --proxy flag: requests below Prefix go to Upstreams.
type Route struct {
	Prefix    string
	Upstreams []string
}

// ParseRoute parses "/prefix=http://host:port,http://host2:port".
func ParseRoute(s string) (Route, error) {
	prefix, list, ok := strings.Cut(s, "=")
	if !ok || list == "" {
		return Route{}, fmt.Errorf("proxy: %q: want /prefix=http://host:port[,http://host2:port]", s)
	}
	r := Route{Prefix: strings.TrimSpace(prefix)}
	if !strings.HasPrefix(r.Prefix, "/") || r.Prefix == "/" || strings.HasSuffix(r.Prefix, "/") {
		return Route{}, fmt.Errorf("proxy: %q: the prefix must start with '/', not end with '/' and not be \"/\"", s)
	}
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			if _, err := parseUpstream(u); err != nil {
				return Route{}, err
			}
			r.Upstreams = append(r.Upstreams, u)
		}
	}
	if len(r.Upstreams) == 0 {
		return Route{}, fmt.Errorf("proxy: %q: no upstream", s)
	}
	return r, nil
}

// String renders the route as ParseRoute reads it.
func (r Route) String() string { return r.Prefix + "=" + strings.Join(r.Upstreams, ",") }

// upstream is one upstream server with its health.
type upstream struct {
	url       *url.URL
	base      string       // scheme://host, for logs and errors
	downUntil atomic.Int64 // unix nanoseconds; 0: up
}

func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream %q: %v", s, err)
	}
	if u.Scheme != "http" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("proxy: upstream %q: want http://host:port with an optional path", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// Proxy forwards the scopes it serves to its upstreams. It is safe for concurrent use.
type Proxy struct {
	ups       []*upstream
	next      atomic.Uint64
	transport http.RoundTripper
	cfg       Config
	log       *slog.Logger
}

// New returns a Proxy for cfg; it fails without upstreams or on a malformed URL.
func New(cfg Config) (*Proxy, error) {
	if len(cfg.Upstreams) == 0 {
		return nil, errors.New("proxy: no upstream")
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.HeadTimeout <= 0 {
		cfg.HeadTimeout = DefaultHeadTimeout
	}
	if cfg.DownFor <= 0 {
		cfg.DownFor = DefaultDownFor
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	p := &Proxy{cfg: cfg, transport: cfg.Transport, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	for _, s := range cfg.Upstreams {
		u, err := parseUpstream(s)
		if err != nil {
			return nil, err
		}
		p.ups = append(p.ups, &upstream{url: u, base: u.Scheme + "://" + u.Host})
	}
	if p.transport == nil {
		p.transport = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true, // pass Accept-Encoding and the encoded body through
		}
	}
	return p, nil
}

// ServeASGI forwards HTTP and WebSocket scopes; the lifespan scope is not supported
// (the proxy has nothing to start).
func (p *Proxy) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		return p.serveHTTP(ctx, s, receive, send)
	case *asgi.WebSocketScope:
		return p.serveWebSocket(ctx, s, receive, send)
	}
	return fmt.Errorf("proxy: unsupported scope type %q", scope.Type())
}

// pick returns the next upstream round robin, skipping those marked down unless all
// are.
func (p *Proxy) pick() *upstream {
	n := uint64(len(p.ups))
	start := p.next.Add(1) - 1
	now := time.Now().UnixNano()
	for i := uint64(0); i < n; i++ {
		u := p.ups[(start+i)%n]
		if u.downUntil.Load() <= now {
			if i > 0 {
				p.next.Store(start + i + 1)
			}
			return u
		}
	}
	return p.ups[start%n]
}

// markDown takes u out of the rotation for DownFor.
func (p *Proxy) markDown(u *upstream, err error) {
	until := time.Now().Add(p.cfg.DownFor).UnixNano()
	if old := u.downUntil.Swap(until); old <= time.Now().UnixNano() {
		p.log.Warn("proxy: upstream down", "upstream", u.base, "for", p.cfg.DownFor, "err", err)
	}
}

// target returns the upstream URL path and query for a scope.
func target(u *url.URL, root, path string, rawPath, query []byte) *url.URL {
	rel := mount.RoutePath(root, path)
	raw := ""
	if rp := string(rawPath); root != "" && strings.HasPrefix(rp, root) {
		raw = rp[len(root):]
	} else if root == "" && len(rp) > 0 {
		raw = rp
	}
	t := *u
	t.Path = u.Path + rel
	if raw != "" && raw != rel {
		t.RawPath = u.EscapedPath() + raw
	} else {
		t.RawPath = ""
	}
	if t.Path == "" {
		t.Path = "/"
	}
	t.RawQuery = string(query)
	return &t
}

// hopByHop reports whether a header field is hop-by-hop (RFC 9110 7.6.1), given the
// Connection field values of the message.
func hopByHop(name []byte, connection [][]byte) bool {
	for _, h := range []string{"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding",
		"upgrade", "proxy-authenticate", "proxy-authorization", "trailer"} {
		if asgi.EqualFold(name, h) {
			return true
		}
	}
	for _, v := range connection {
		for _, tok := range strings.Split(string(v), ",") {
			if asgi.EqualFold(name, strings.TrimSpace(tok)) {
				return true
			}
		}
	}
	return false
}

// forwardedHeaders returns the X-Forwarded-* values for a request: the client appended
// to X-Forwarded-For, the scheme and the original host.
func forwardedFor(h asgi.Headers, client *asgi.Addr) string {
	prior := h.Values("x-forwarded-for")
	var parts []string
	for _, v := range prior {
		if s := strings.TrimSpace(string(v)); s != "" {
			parts = append(parts, s)
		}
	}
	if client != nil && client.Host != "" {
		parts = append(parts, client.Host)
	}
	return strings.Join(parts, ", ")
}

func originalHost(h asgi.Headers, server *asgi.Addr) string {
	if v := h.Get("host"); len(v) > 0 {
		return string(v)
	}
	if server != nil {
		return net.JoinHostPort(server.Host, fmt.Sprint(server.Port))
	}
	return ""
}

// bufPool holds the response-body buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// respondError answers status with a one-line text body.
func respondError(ctx context.Context, send asgi.Send, status int, msg string) error {
	return httpx.Text(ctx, send, status, msg+"\n")
}
