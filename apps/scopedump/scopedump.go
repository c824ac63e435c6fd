package scopedump

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Dump is the JSON form of an HTTP scope.
type Dump struct {
	Type        string      `json:"type"`
	ASGI        asgi.Info   `json:"asgi"`
	HTTPVersion string      `json:"http_version"`
	Method      string      `json:"method"`
	Scheme      string      `json:"scheme"`
	Path        string      `json:"path"`
	RawPath     string      `json:"raw_path"`
	QueryString string      `json:"query_string"`
	RootPath    string      `json:"root_path"`
	Headers     [][2]string `json:"headers"`
	Client      []any       `json:"client"` // [host, port] or null
	Server      []any       `json:"server"` // [host, port] or null
	State       []string    `json:"state"`  // sorted keys
	// Extensions are the scope's extensions as JSON renders them (ASGI's "tls": the
	// certificates as PEM strings, version and suite as numbers); a value JSON cannot
	// render shows as its Go type. Omitted when the scope has none.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Latin1 returns b as a string with one rune per byte (U+0000-U+00FF), as Python's
// bytes.decode("latin-1") does, so any byte sequence round-trips.
func Latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// New returns the Dump of s. It does not keep references to s's byte slices.
func New(s *asgi.HTTPScope) Dump {
	d := Dump{
		Type: s.Type(), ASGI: s.ASGI, HTTPVersion: s.HTTPVersion, Method: s.Method,
		Scheme: s.Scheme, Path: s.Path, RawPath: Latin1(s.RawPath),
		QueryString: Latin1(s.QueryString), RootPath: s.RootPath,
		Headers: make([][2]string, len(s.Headers)), Client: addr(s.Client),
		Server: addr(s.Server), State: make([]string, 0, s.State.Len()),
	}
	for i, h := range s.Headers {
		d.Headers[i] = [2]string{Latin1(h.Name), Latin1(h.Value)}
	}
	for k := range s.State.All() {
		d.State = append(d.State, k)
	}
	slices.Sort(d.State)
	if len(s.Extensions) > 0 {
		d.Extensions = make(map[string]any, len(s.Extensions))
		for k, v := range s.Extensions {
			if _, err := json.Marshal(v); err != nil {
				v = fmt.Sprintf("%T", v)
			}
			d.Extensions[k] = v
		}
	}
	return d
}

func addr(a *asgi.Addr) []any {
	if a == nil {
		return nil
	}
	return []any{a.Host, a.Port}
}

// ScopeDump is the scope-dumping app. The zero value is ready and safe for concurrent
// use; App is the value to serve.
type ScopeDump struct{}

// App serves the scope as JSON.
var App asgi.App = ScopeDump{}

// ServeASGI answers an HTTP scope with its Dump as application/json. It never calls
// receive, so it can run on the event loop (see Inline).
func (ScopeDump) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return fmt.Errorf("scopedump: unsupported scope type %q", scope.Type())
	}
	body, err := json.Marshal(New(s))
	if err != nil {
		return fmt.Errorf("scopedump: %w", err)
	}
	body = append(body, '\n')
	headers := asgi.Headers{
		{Name: httpx.NameContentType, Value: httpx.ApplicationJSON},
		{Name: httpx.NameContentLength, Value: strconv.AppendInt(nil, int64(len(body)), 10)},
	}
	return httpx.Full(ctx, send, 200, headers, body)
}

// Recycles reports true: the dump is rendered and sent during the call.
func (ScopeDump) Recycles() bool { return true }

// Inline reports true for HTTP scopes: rendering JSON never blocks.
func (ScopeDump) Inline(scope asgi.Scope) bool {
	_, ok := scope.(*asgi.HTTPScope)
	return ok
}
