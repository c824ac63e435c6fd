package ipfilter

import (
	"context"
	"net/netip"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Config lists the addresses admitted and refused. Entries are IP addresses or CIDR
// prefixes, IPv4 or IPv6 (the --allow-ip and --deny-ip flags). Deny wins; with a
// non-empty Allow, everything not allowed is refused. The zero value admits everyone.
type Config struct {
	Allow []string
	Deny  []string
}

// Enabled reports whether cfg has any entry, that is whether New would filter at all.
func (cfg Config) Enabled() bool { return len(cfg.Allow) > 0 || len(cfg.Deny) > 0 }

// Filter decides on addresses with the rule of Config. Read-only once built; safe for
// concurrent use.
type Filter struct {
	allow *Set // nil: no allow list
	deny  *Set
}

// NewFilter parses cfg.
func NewFilter(cfg Config) (*Filter, error) {
	f := &Filter{}
	var err error
	if len(cfg.Allow) > 0 {
		if f.allow, err = ParseSet(cfg.Allow); err != nil {
			return nil, err
		}
	}
	if f.deny, err = ParseSet(cfg.Deny); err != nil {
		return nil, err
	}
	return f, nil
}

// Allowed reports whether a is admitted. An invalid (zero) Addr is in no list. It
// does not allocate.
func (f *Filter) Allowed(a netip.Addr) bool {
	if f.deny.Contains(a) {
		return false
	}
	return f.allow == nil || f.allow.Contains(a)
}

// AllowedClient reports whether the scope client c is admitted (see the package
// documentation for a nil or non-IP client). It does not allocate.
func (f *Filter) AllowedClient(c *asgi.Addr) bool {
	var a netip.Addr
	if c != nil && looksLikeIP(c.Host) {
		a, _ = netip.ParseAddr(c.Host) // on error a stays the zero Addr: in no list
	}
	return f.Allowed(a)
}

// looksLikeIP reports whether host has only the characters of an IP address, so that
// hosts that are not (Unix socket paths) skip netip.ParseAddr, whose error allocates.
func looksLikeIP(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == '.' || c == ':' || c == '%') {
			return false
		}
	}
	return true
}

// App wraps an asgi.App with a Filter. Safe for concurrent use.
type App struct {
	next   asgi.App
	filter *Filter
}

// New returns next behind the filter of cfg, or an error when an entry does not parse.
func New(next asgi.App, cfg Config) (*App, error) {
	f, err := NewFilter(cfg)
	if err != nil {
		return nil, err
	}
	return &App{next: next, filter: f}, nil
}

var forbiddenBody = []byte("Forbidden\n")

// ServeASGI refuses HTTP and WebSocket scopes from clients the filter refuses, and
// passes everything else (lifespan included) to the wrapped app.
func (a *App) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		if !a.filter.AllowedClient(s.Client) {
			return httpx.Text(ctx, send, 403, "Forbidden\n")
		}
	case *asgi.WebSocketScope:
		if !a.filter.AllowedClient(s.Client) {
			return refuseWebSocket(ctx, s, send)
		}
	}
	return a.next.ServeASGI(ctx, scope, receive, send)
}

// refuseWebSocket answers the handshake with 403: the denial response when the server
// offers the websocket.http.response extension, else websocket.close before accept.
func refuseWebSocket(ctx context.Context, s *asgi.WebSocketScope, send asgi.Send) error {
	if _, ok := s.Extensions[asgi.ExtWebSocketHTTPResponse]; !ok {
		return httpx.RefuseWebSocket(ctx, send)
	}
	headers := asgi.Headers{{Name: httpx.NameContentType, Value: httpx.TextPlain}}
	if err := send(ctx, &asgi.WebSocketHTTPResponseStart{Status: 403, Headers: headers}); err != nil {
		return err
	}
	return send(ctx, &asgi.WebSocketHTTPResponseBody{Body: forbiddenBody})
}

// Inline reports true for HTTP scopes the filter refuses (the 403 never blocks), what
// the wrapped app says for the other HTTP scopes, and false for other scope types. It does not allocate.
func (a *App) Inline(scope asgi.Scope) bool {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return false
	}
	if !a.filter.AllowedClient(s.Client) {
		return true
	}
	return asgi.CanInline(a.next, scope)
}

// Recycles passes the wrapped app's answer on: a refusal keeps nothing of its call.
func (a *App) Recycles() bool { return asgi.CanRecycle(a.next) }

// RecyclesBody passes the wrapped app's answer on: a refusal reads no body.
func (a *App) RecyclesBody(scope asgi.Scope) bool { return asgi.CanRecycleBody(a.next, scope) }

// WebSocketHandler passes the wrapped app's event-mode choice on for admitted clients;
// refused ones get nil, so the server calls ServeASGI, which refuses them.
func (a *App) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	if !a.filter.AllowedClient(scope.Client) {
		return nil
	}
	return asgi.WebSocketHandlerFor(a.next, scope)
}
