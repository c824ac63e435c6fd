package proxyheaders

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// DefaultTrusted is the trusted set used when Config.Trusted is empty: the loopback
// address a proxy on the same host connects from (uvicorn's default).
var DefaultTrusted = []string{"127.0.0.1"}

// Config says whose proxy headers are believed.
type Config struct {
	// Trusted lists the peers whose headers are believed: IP addresses and CIDR
	// prefixes, IPv4 or IPv6, or "*" for every peer (--forwarded-allow-ips). If empty,
	// DefaultTrusted is used.
	Trusted []string
}

// trust is a parsed trusted set. Read-only once built; safe for concurrent use.
type trust struct {
	all bool
	set *ipfilter.Set
}

func parseTrust(entries []string) (*trust, error) {
	if len(entries) == 0 {
		entries = DefaultTrusted
	}
	t := &trust{}
	var ips []string
	for _, e := range entries {
		switch e = strings.TrimSpace(e); e {
		case "*":
			t.all = true
		case "":
		default:
			ips = append(ips, e)
		}
	}
	set, err := ipfilter.ParseSet(ips)
	if err != nil {
		return nil, fmt.Errorf("proxyheaders: %w", err)
	}
	t.set = set
	return t, nil
}

// contains reports whether a is trusted; an invalid Addr never is, except with "*".
func (t *trust) contains(a netip.Addr) bool {
	return t.all || a.IsValid() && t.set.Contains(a)
}

// App wraps an asgi.App. Safe for concurrent use.
type App struct {
	next  asgi.App
	trust *trust
}

// New returns next behind the middleware, or an error when an entry of cfg.Trusted
// does not parse.
func New(next asgi.App, cfg Config) (*App, error) {
	t, err := parseTrust(cfg.Trusted)
	if err != nil {
		return nil, err
	}
	return &App{next: next, trust: t}, nil
}

// TrustFunc returns cfg's trusted set as a predicate: the peers whose headers the
// middleware believes, for the event loop's PROXY protocol
// (eventloop.Config.ProxyProtocolTrusted), which admits the same peers. The zero
// netip.Addr (a Unix socket peer, which has no address) is trusted only with "*";
// IPv4-mapped IPv6 addresses are matched as IPv4. The predicate only reads the parsed
// set: it is safe for concurrent use and does not allocate.
func TrustFunc(cfg Config) (func(netip.Addr) bool, error) {
	t, err := parseTrust(cfg.Trusted)
	if err != nil {
		return nil, err
	}
	return func(a netip.Addr) bool { return t.contains(a.Unmap()) }, nil
}

// Validate reports whether cfg parses, without building the middleware.
func Validate(cfg Config) error {
	_, err := parseTrust(cfg.Trusted)
	return err
}

// ServeASGI calls the wrapped app with the scope rewritten from the proxy headers of a
// trusted peer, or with the scope as it is.
func (a *App) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	return a.next.ServeASGI(ctx, a.rewrite(scope), receive, send)
}

// Inline passes the wrapped app's answer on, for the rewritten scope.
func (a *App) Inline(scope asgi.Scope) bool {
	return asgi.CanInline(a.next, a.rewrite(scope))
}

// Recycles passes the wrapped app's answer on: a rewritten scope is a copy the
// middleware drops when the call returns.
func (a *App) Recycles() bool { return asgi.CanRecycle(a.next) }

// RecyclesBody passes the wrapped app's answer for the rewritten scope on.
func (a *App) RecyclesBody(scope asgi.Scope) bool {
	return asgi.CanRecycleBody(a.next, a.rewrite(scope))
}

// WebSocketHandler passes the wrapped app's event-mode choice on, for the rewritten
// scope (which the handler it returns then serves).
func (a *App) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	ws, _ := a.rewrite(scope).(*asgi.WebSocketScope)
	return asgi.WebSocketHandlerFor(a.next, ws)
}

// rewrite returns scope, or a rewritten copy when the peer is trusted and its headers
// change something.
func (a *App) rewrite(scope asgi.Scope) asgi.Scope {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		if f, ok := a.forwarded(s.Client, s.Headers, false); ok {
			c := *s
			f.apply(&c.Client, &c.Scheme, &c.Headers)
			return &c
		}
	case *asgi.WebSocketScope:
		if f, ok := a.forwarded(s.Client, s.Headers, true); ok {
			c := *s
			f.apply(&c.Client, &c.Scheme, &c.Headers)
			return &c
		}
	}
	return scope
}

// peerTrusted reports whether the scope's client is a trusted peer.
func (a *App) peerTrusted(c *asgi.Addr) bool {
	if a.trust.all {
		return true
	}
	if c == nil {
		return false
	}
	ip, err := netip.ParseAddr(c.Host)
	return err == nil && a.trust.contains(ip)
}

// result is what the headers of a trusted peer say; zero fields say nothing.
type result struct {
	client *asgi.Addr
	scheme string
	host   []byte
}

func (r result) empty() bool { return r.client == nil && r.scheme == "" && r.host == nil }

// apply writes r into a scope copy's fields; headers get a new slice when the host
// changes, so the server's slice is never written.
func (r result) apply(client **asgi.Addr, scheme *string, headers *asgi.Headers) {
	if r.client != nil {
		*client = r.client
	}
	if r.scheme != "" {
		*scheme = r.scheme
	}
	if r.host != nil {
		*headers = withHost(*headers, r.host)
	}
}

// forwarded reads the proxy headers when the peer is trusted.
func (a *App) forwarded(peer *asgi.Addr, h asgi.Headers, websocket bool) (result, bool) {
	var xff, xfp, fwd []byte
	var seen bool
	for i := range h {
		name := h[i].Name
		switch len(name) { // the length first: every request's fields are scanned
		case len("x-forwarded-for"):
			if asgi.EqualFold(name, "x-forwarded-for") {
				xff, seen = joinField(xff, h[i].Value), true
			}
		case len("x-forwarded-proto"):
			if asgi.EqualFold(name, "x-forwarded-proto") {
				xfp, seen = joinField(xfp, h[i].Value), true
			}
		case len("forwarded"):
			if asgi.EqualFold(name, "forwarded") {
				fwd, seen = joinField(fwd, h[i].Value), true
			}
		}
	}
	if !seen || !a.peerTrusted(peer) {
		return result{}, false
	}
	var r result
	if xff != nil {
		r.client = a.clientFromXFF(string(xff))
	}
	if xfp != nil {
		r.scheme = schemeFor(lastEntry(string(xfp)), websocket)
	}
	if fwd != nil {
		if e, ok := a.chooseElement(string(fwd)); ok {
			if xff == nil {
				r.client = e.client
			}
			if xfp == nil {
				r.scheme = schemeFor(e.proto, websocket)
			}
			r.host = e.host
		}
	}
	return r, !r.empty()
}

// joinField appends a repeated field's value with a comma, as RFC 9110 5.3 allows. The
// first value is kept as it is (never written to); later ones go to a new slice.
func joinField(acc, v []byte) []byte {
	if acc == nil {
		return v
	}
	out := make([]byte, 0, len(acc)+1+len(v))
	return append(append(append(out, acc...), ','), v...)
}

// clientFromXFF walks X-Forwarded-For from the right and returns the client, or nil
// when the entry it lands on is not an IP address.
func (a *App) clientFromXFF(v string) *asgi.Addr {
	for {
		i := strings.LastIndexByte(v, ',')
		ip, port, ok := parseNode(strings.TrimSpace(v[i+1:]))
		if !ok {
			return nil
		}
		if i < 0 || !a.trust.contains(ip) {
			return &asgi.Addr{Host: ip.String(), Port: port}
		}
		v = v[:i]
	}
}

// parseNode parses an address with an optional port: "192.0.2.1", "192.0.2.1:80",
// "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:80". Zones are refused.
func parseNode(s string) (netip.Addr, int, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap(), 0, ip.Zone() == ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), int(ap.Port()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if ip, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && ip.Is6() && ip.Zone() == "" {
			return ip.Unmap(), 0, true
		}
	}
	return netip.Addr{}, 0, false
}

// lastEntry returns the right-most entry of a comma-separated list, trimmed.
func lastEntry(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// schemeFor maps a forwarded protocol to the scheme of the scope type, or "".
func schemeFor(proto string, websocket bool) string {
	secure := false
	switch strings.ToLower(proto) {
	case "http", "ws":
	case "https", "wss":
		secure = true
	default:
		return ""
	}
	switch {
	case websocket && secure:
		return "wss"
	case websocket:
		return "ws"
	case secure:
		return "https"
	}
	return "http"
}

// withHost returns a copy of h whose host fields are replaced by one with value host.
func withHost(h asgi.Headers, host []byte) asgi.Headers {
	out := make(asgi.Headers, 0, len(h)+1)
	out = append(out, asgi.HeaderField{Name: []byte("host"), Value: host})
	for _, f := range h {
		if !asgi.EqualFold(f.Name, "host") {
			out = append(out, f)
		}
	}
	return out
}
