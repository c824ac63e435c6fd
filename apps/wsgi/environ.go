package wsgi

import (
	"context"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Environ is the WSGI environment of one request (PEP 3333's environ dict). CGI keys hold
// strings; the wsgi.* keys hold the values listed with the key constants below. The map
// belongs to the handler for the duration of the request; it is not safe for concurrent
// use.
type Environ map[string]any

// Keys of the environ besides the CGI variables (REQUEST_METHOD, SCRIPT_NAME, PATH_INFO,
// QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH, SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL,
// REMOTE_ADDR, REMOTE_PORT and HTTP_*).
const (
	KeyVersion      = "wsgi.version"      // [2]int{1, 0}
	KeyURLScheme    = "wsgi.url_scheme"   // string: "http" or "https"
	KeyInput        = "wsgi.input"        // *Input (an io.Reader)
	KeyErrors       = "wsgi.errors"       // io.Writer
	KeyMultithread  = "wsgi.multithread"  // bool: true
	KeyMultiprocess = "wsgi.multiprocess" // bool: false
	KeyRunOnce      = "wsgi.run_once"     // bool: false
	KeyFileWrapper  = "wsgi.file_wrapper" // FileWrapperFunc
	// KeyContext holds a context.Context cancelled when the client goes away, the
	// handler times out, or the request ends; long handlers should watch it.
	KeyContext = "asgo.context"
	// KeyScope holds the *asgi.HTTPScope of the request (read only).
	KeyScope = "asgi.scope"
)

// Get returns the string value of key, or "" when it is absent or not a string.
func (e Environ) Get(key string) string {
	s, _ := e[key].(string)
	return s
}

// Input returns wsgi.input.
func (e Environ) Input() *Input {
	in, _ := e[KeyInput].(*Input)
	return in
}

// Errors returns wsgi.errors, or io.Discard when it is absent.
func (e Environ) Errors() io.Writer {
	if w, ok := e[KeyErrors].(io.Writer); ok {
		return w
	}
	return io.Discard
}

// FileWrapper returns wsgi.file_wrapper, or NewFileWrapper when it is absent.
func (e Environ) FileWrapper() FileWrapperFunc {
	if f, ok := e[KeyFileWrapper].(FileWrapperFunc); ok {
		return f
	}
	return NewFileWrapper
}

// Context returns asgo.context, or context.Background when it is absent.
func (e Environ) Context() context.Context {
	if c, ok := e[KeyContext].(context.Context); ok {
		return c
	}
	return context.Background()
}

// buildEnviron fills the CGI and wsgi keys for scope. Header fields whose names hold an
// underscore are dropped, as gunicorn and nginx do, so "X_Forwarded_For" cannot pose as
// "X-Forwarded-For" (both map to HTTP_X_FORWARDED_FOR).
func buildEnviron(scope *asgi.HTTPScope, in *Input, errs io.Writer, ctx context.Context) Environ {
	e := make(Environ, 24+len(scope.Headers))
	e["REQUEST_METHOD"] = methodValue(scope.Method)
	e["SCRIPT_NAME"] = strings.TrimSuffix(scope.RootPath, "/")
	e["PATH_INFO"] = pathInfo(scope)
	e["QUERY_STRING"] = string(scope.QueryString)
	e["CONTENT_TYPE"] = ""
	e["CONTENT_LENGTH"] = ""
	e["SERVER_PROTOCOL"] = protocolValue(scope.HTTPVersion)
	addHeaders(e, scope.Headers)
	addServer(e, scope)
	addClient(e, scope.Client)
	addUWSGIVars(e, scope)
	e[KeyVersion] = wsgiVersion
	e[KeyURLScheme] = scope.Scheme
	e[KeyInput] = in
	e[KeyErrors] = errs
	e[KeyMultithread] = true
	e[KeyMultiprocess] = false
	e[KeyRunOnce] = false
	e[KeyFileWrapper] = fileWrapper
	e[KeyContext] = ctx
	e[KeyScope] = scope
	return e
}

// Boxed values shared by every environ, so building one allocates less. They are
// immutable (an array and a func value).
var (
	wsgiVersion any = [2]int{1, 0}
	fileWrapper any = FileWrapperFunc(NewFileWrapper)
)

// methodValue returns the method as an interface value, without allocating for the
// standard methods.
func methodValue(m string) any {
	switch m {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "OPTIONS":
		return "OPTIONS"
	}
	return m
}

func protocolValue(version string) any {
	switch version {
	case "1.1":
		return "HTTP/1.1"
	case "2":
		return "HTTP/2"
	case "1.0":
		return "HTTP/1.0"
	}
	return "HTTP/" + version
}

// pathInfo is the decoded path below the root path (SCRIPT_NAME).
func pathInfo(scope *asgi.HTTPScope) string {
	root := strings.TrimSuffix(scope.RootPath, "/")
	if root != "" && strings.HasPrefix(scope.Path, root) {
		rest := scope.Path[len(root):]
		if rest == "" || rest[0] == '/' {
			return rest
		}
	}
	return scope.Path
}

// addHeaders sets CONTENT_TYPE, CONTENT_LENGTH and the HTTP_* keys; the values share one
// allocation (repeated fields are joined into a new string).
func addHeaders(e Environ, h asgi.Headers) {
	all, off := httpx.JoinValues(h), 0
	for i := range h {
		v := all[off : off+len(h[i].Value)]
		off += len(h[i].Value)
		key, sep, ok := cgiKey(h[i].Name)
		if !ok {
			continue
		}
		if old, dup := e[key].(string); dup && old != "" {
			e[key] = old + sep + v
			continue
		}
		e[key] = v
	}
}

// cgiKey maps a header name to its environ key and the separator used to join repeated
// fields; ok is false for names the environ must not carry.
func cgiKey(name []byte) (key, sep string, ok bool) {
	switch {
	case asgi.EqualFold(name, "content-type"):
		return "CONTENT_TYPE", ", ", true
	case asgi.EqualFold(name, "content-length"):
		return "CONTENT_LENGTH", ", ", true
	case asgi.EqualFold(name, "cookie"):
		return "HTTP_COOKIE", "; ", true
	case len(name) == 0 || name[0] == ':':
		return "", "", false
	}
	if k, hit := commonKeys[string(name)]; hit {
		return k, ", ", true
	}
	b := make([]byte, 5+len(name))
	copy(b, "HTTP_")
	for i, c := range name {
		switch {
		case c == '_':
			return "", "", false
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b[5+i] = c
	}
	return string(b), ", ", true
}

// commonKeys saves building the key for frequent header names (lower case, as in scopes).
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"host", "user-agent", "accept", "accept-encoding", "accept-language",
		"connection", "cache-control", "referer", "origin", "authorization", "x-forwarded-for",
		"x-forwarded-proto", "x-request-id", "if-none-match", "if-modified-since", "range",
		"expect", "transfer-encoding", "upgrade-insecure-requests"} {
		m[n] = "HTTP_" + strings.ToUpper(strings.ReplaceAll(n, "-", "_"))
	}
	return m
}()

// serverValues caches the boxed SERVER_NAME and SERVER_PORT of a server address, which
// is the same for every request on one listener.
type serverValues struct {
	addr       asgi.Addr
	name, port any
}

var lastServer atomic.Pointer[serverValues]

// addServer sets SERVER_NAME and SERVER_PORT from the bound address, or from the Host
// header (and the scheme's default port) when the server has no address (Unix socket).
func addServer(e Environ, scope *asgi.HTTPScope) {
	if scope.Server != nil {
		v := lastServer.Load()
		if v == nil || v.addr != *scope.Server {
			v = &serverValues{addr: *scope.Server, name: scope.Server.Host, port: strconv.Itoa(scope.Server.Port)}
			lastServer.Store(v)
		}
		e["SERVER_NAME"], e["SERVER_PORT"] = v.name, v.port
		return
	}
	host, port := e.Get("HTTP_HOST"), ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host, port = host[:i], host[i+1:]
	}
	if port == "" {
		port = "80"
		if scope.Scheme == "https" {
			port = "443"
		}
	}
	if host == "" {
		host = "localhost"
	}
	e["SERVER_NAME"], e["SERVER_PORT"] = host, port
}

func addClient(e Environ, client *asgi.Addr) {
	if client == nil {
		e["REMOTE_ADDR"], e["REMOTE_PORT"] = "", ""
		return
	}
	e["REMOTE_ADDR"] = client.Host
	e["REMOTE_PORT"] = strconv.Itoa(client.Port)
}

// addUWSGIVars copies the CGI variables a front server sent over the uwsgi protocol
// (the scope's asgi.ExtUWSGIVars) into the environ, as PEP 3333 lets a server add its
// own: REMOTE_ADDR and REMOTE_PORT, SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL,
// REQUEST_URI, DOCUMENT_ROOT, HTTPS, REQUEST_SCHEME and any custom uwsgi_param, each
// replacing the value derived from the scope. Not copied: the HTTP_* vars (the headers
// already gave them, without names holding an underscore), the wsgi.*, asgi.* and
// asgo.* keys (the environ's own), and SCRIPT_NAME and PATH_INFO, which stay those of
// the scope: the uwsgi layer built the scope's root_path and path from these very vars
// (nginx's PATH_INFO, $document_uri, holds SCRIPT_NAME too; the environ's PATH_INFO is
// the part below it), and a mount may have moved the root path since. REMOTE_ADDR and
// REMOTE_PORT also stay the scope's when middleware (proxy headers) changed the client.
func addUWSGIVars(e Environ, scope *asgi.HTTPScope) {
	vars, ok := scope.Extensions[asgi.ExtUWSGIVars].(map[string]string)
	if !ok {
		return
	}
	clientMoved := scope.Client == nil || vars["REMOTE_ADDR"] != scope.Client.Host
	for k, v := range vars {
		switch {
		case strings.HasPrefix(k, "HTTP_"), strings.HasPrefix(k, "wsgi."), strings.HasPrefix(k, "asgi."),
			strings.HasPrefix(k, "asgo."), k == "SCRIPT_NAME", k == "PATH_INFO":
			continue
		case (k == "REMOTE_ADDR" || k == "REMOTE_PORT") && clientMoved:
			continue
		}
		e[k] = v
	}
}
