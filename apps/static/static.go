package static

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Config configures a static file app. Exactly one of Dir and FS is set.
type Config struct {
	// Prefix is the URL prefix (of the route path) the files are served under, e.g.
	// "/static": the request /static/css/site.css is the file css/site.css. "" or "/"
	// serves the whole route path (what an app mounted with apps/mount wants).
	Prefix string
	// Dir is the directory served. Its files can go out with http.response.pathsend.
	Dir string
	// FS is the file system served instead of Dir (embed.FS, os.DirFS, ...); its
	// files are streamed. Unlike Dir, symlinks are what FS makes of them.
	FS fs.FS
	// Index, if set, is the file served for a directory (e.g. "index.html").
	Index string
	// CacheControl, if set, is the Cache-Control header of every file response (e.g.
	// "public, max-age=3600").
	CacheControl string
	// WeakETags makes the ETags weak (W/"..."): If-Range never matches them.
	WeakETags bool
	// NoInline runs every file request on a goroutine, never on the event loop (see
	// App.Inline): for a directory on a slow or network file system.
	NoInline bool
	// Next serves what is not a file under Prefix; nil answers 404 (HTTP), refuses
	// (WebSocket) and does not support the lifespan.
	Next asgi.App
}

// App serves files as Config says. It is safe for concurrent use.
type App struct {
	prefix       string
	src          source
	index        string
	cacheControl []byte
	weak         bool
	inline       bool // Dir and not NoInline: file requests may run on the loop
	next         asgi.App
}

// New returns the app for cfg, or an error when the prefix is malformed or the
// directory cannot be used.
func New(cfg Config) (*App, error) {
	a := &App{index: cfg.Index, weak: cfg.WeakETags, next: cfg.Next}
	if cfg.CacheControl != "" {
		a.cacheControl = []byte(cfg.CacheControl)
	}
	switch p := cfg.Prefix; {
	case p == "" || p == "/":
	case !strings.HasPrefix(p, "/"):
		return nil, fmt.Errorf("static: prefix %q must start with '/'", p)
	default:
		a.prefix = strings.TrimRight(p, "/")
	}
	if strings.ContainsAny(cfg.Index, "/\\\x00") || cfg.Index == "." || cfg.Index == ".." {
		return nil, fmt.Errorf("static: index %q must be a file name", cfg.Index)
	}
	switch {
	case cfg.Dir != "" && cfg.FS != nil:
		return nil, errors.New("static: set Dir or FS, not both")
	case cfg.FS != nil:
		a.src = fsSource{cfg.FS}
	case cfg.Dir != "":
		d, err := newDirSource(cfg.Dir)
		if err != nil {
			return nil, fmt.Errorf("static: %w", err)
		}
		a.src = d
		a.inline = !cfg.NoInline
	default:
		return nil, errors.New("static: no Dir or FS to serve")
	}
	return a, nil
}

// below returns the part of the scope's route path below the prefix ("" or starting
// with "/"), and false when the path is not under the prefix.
func (a *App) below(root, path string) (string, bool) {
	rp := mount.RoutePath(root, path)
	if a.prefix == "" {
		return rp, true
	}
	if !strings.HasPrefix(rp, a.prefix) {
		return "", false
	}
	rest := rp[len(a.prefix):]
	if rest != "" && rest[0] != '/' {
		return "", false
	}
	return rest, true
}

// ServeASGI serves files for HTTP scopes under the prefix and passes the rest on to
// Next (see the package documentation).
func (a *App) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if s, ok := scope.(*asgi.HTTPScope); ok {
		if rest, ok := a.below(s.RootPath, s.Path); ok {
			return a.serveHTTP(ctx, s, rest, receive, send)
		}
	}
	return a.passOn(ctx, scope, receive, send)
}

// passOn hands scope to Next, or answers for a missing Next.
func (a *App) passOn(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if a.next != nil {
		return a.next.ServeASGI(ctx, scope, receive, send)
	}
	switch scope.(type) {
	case *asgi.HTTPScope:
		return httpx.NotFound(ctx, send)
	case *asgi.WebSocketScope:
		return httpx.RefuseWebSocket(ctx, send)
	}
	return fmt.Errorf("static: unsupported scope type %q", scope.Type())
}

// Inline reports what Next says for HTTP scopes outside the prefix. A GET or HEAD
// under the prefix runs on the event loop when the files come from Dir (and NoInline
// is not set), the server sends pathsend bodies with sendfile on this connection
// (asgi.PathsendZeroCopy: cleartext HTTP/1.1), the request asks for at most one range,
// and a miss may fall through on the loop too (no Next, or Next inlines the scope).
// The work on the loop is then one openat2 and one fstat per file (and per
// precompressed sibling) and the response head; the body never sits in memory.
//
// The trade-off: a file whose inode is not in the kernel's cache (a cold disk, a
// network file system) holds the loop, and every connection on it, for the disk's
// latency, as nginx's loop is held by its open(2). Set NoInline for such directories.
// Everything else (HTTP/2, TLS, multiple ranges, fs.FS) runs on a goroutine, where
// its body is copied with backpressure.
func (a *App) Inline(scope asgi.Scope) bool {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return false
	}
	if _, ok := a.below(s.RootPath, s.Path); !ok {
		return a.next != nil && asgi.CanInline(a.next, s)
	}
	return a.inline && (s.Method == "GET" || s.Method == "HEAD") && asgi.PathsendZeroCopy(s) &&
		!bytes.Contains(s.Headers.Get("range"), comma) && (a.next == nil || asgi.CanInline(a.next, s))
}

// Recycles reports whether the app after the static files (if any) keeps nothing of its
// inline calls: a file sent with pathsend keeps nothing of the call either (the server
// opens the file during the send).
func (a *App) Recycles() bool { return a.next == nil || asgi.CanRecycle(a.next) }

// RecyclesBody reports what the app after the static files says (static files read no
// body).
func (a *App) RecyclesBody(scope asgi.Scope) bool {
	return a.next == nil || asgi.CanRecycleBody(a.next, scope)
}

var comma = []byte(",")

// WebSocketHandler passes Next's event-mode choice on: WebSocket scopes always go to
// Next.
func (a *App) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	if a.next == nil {
		return nil
	}
	return asgi.WebSocketHandlerFor(a.next, scope)
}

var allowGetHead = []byte("GET, HEAD")

// serveHTTP answers a request under the prefix.
func (a *App) serveHTTP(ctx context.Context, s *asgi.HTTPScope, rest string, receive asgi.Receive, send asgi.Send) error {
	name, wantDir, ok := cleanPath(rest)
	if !ok {
		return httpx.NotFound(ctx, send) // never handed to Next either
	}
	getOrHead := s.Method == "GET" || s.Method == "HEAD"
	if !getOrHead && a.next == nil {
		return httpx.MethodNotAllowed(ctx, send, allowGetHead)
	}
	f, err := a.find(name, wantDir)
	var redirect redirectError
	switch {
	case errors.As(err, &redirect):
		if !getOrHead {
			return httpx.MethodNotAllowed(ctx, send, allowGetHead)
		}
		return a.redirectToDir(ctx, s, send)
	case errors.Is(err, errOutside):
		return httpx.NotFound(ctx, send)
	case err != nil:
		return a.passOn(ctx, s, receive, send)
	}
	defer f.close()
	if !getOrHead {
		return httpx.MethodNotAllowed(ctx, send, allowGetHead)
	}
	return a.serveFile(ctx, s, f, send)
}

// redirectError is find's answer for a directory with an index requested without the
// trailing slash.
type redirectError struct{}

func (redirectError) Error() string { return "static: directory without trailing slash" }

// redirectToDir answers 301 to the request path with a slash appended.
func (a *App) redirectToDir(ctx context.Context, s *asgi.HTTPScope, send asgi.Send) error {
	loc := string(s.RawPath)
	if loc == "" {
		loc = s.Path
	}
	loc += "/"
	if len(s.QueryString) > 0 {
		loc += "?" + string(s.QueryString)
	}
	return httpx.Text(ctx, send, 301, "Moved Permanently\n", asgi.HeaderField{Name: []byte("location"), Value: []byte(loc)})
}
