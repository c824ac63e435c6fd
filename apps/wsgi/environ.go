package wsgi

import (
	"context"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Environ is the WSGI environment of one request (PEP 3333's environ dict): the CGI keys
// (strings) and the wsgi.* keys (the values listed with the key constants below).
//
// It is built lazily: the adapter hands the handler an Environ that reads each value
// from the request's scope when it is asked for (Get, Lookup and the typed accessors
// cost no map and, for most keys, no allocation). The whole map is built once, the
// first time the environ is iterated (All, Len, Map) or changed (Set, Delete); from
// then on the map is the environ, and every method reads and writes it. Either way
// the handler sees the same keys and values, and its changes are seen by every later
// call.
//
// An Environ belongs to the handler; it stays valid after the request ended (it holds
// only values that belong to the app). Not safe for concurrent use. The zero value is
// an empty environ that cannot be changed (Set panics); NewEnviron makes one from a map.
type Environ struct{ e *environ }

// environ is what an Environ points to: either the request it is read from lazily, or,
// once m is set, the map.
type environ struct {
	scope *asgi.HTTPScope
	input *Input
	errs  io.Writer
	ctx   context.Context
	m     map[string]any // the environ once built; nil until then
}

// NewEnviron returns an Environ holding m (not copied: changes through either are seen
// by both). A nil m is made empty. Useful to call a Handler directly, in tests or
// middleware.
func NewEnviron(m map[string]any) Environ {
	if m == nil {
		m = map[string]any{}
	}
	return Environ{&environ{m: m}}
}

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
	if e.e != nil && e.e.m == nil {
		s, _ := e.e.lazyString(key)
		return s
	}
	v, _ := e.Lookup(key)
	s, _ := v.(string)
	return s
}

// Lookup returns the value of key and whether the environ holds it.
func (e Environ) Lookup(key string) (any, bool) {
	switch {
	case e.e == nil:
		return nil, false
	case e.e.m != nil:
		v, ok := e.e.m[key]
		return v, ok
	}
	return e.e.lazy(key)
}

// Set sets key to v, building the map first if it was not built yet.
func (e Environ) Set(key string, v any) {
	if e.e == nil {
		panic("wsgi: Set on the zero Environ (use NewEnviron)")
	}
	e.Map()[key] = v
}

// Delete removes key, building the map first if it was not built yet.
func (e Environ) Delete(key string) {
	if e.e != nil {
		delete(e.Map(), key)
	}
}

// Len returns the number of keys.
func (e Environ) Len() int {
	if e.e == nil {
		return 0
	}
	return len(e.Map())
}

// All yields every key and value, in no particular order (it builds the map). Changing
// the environ while iterating follows the rules of ranging over a map.
func (e Environ) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if e.e == nil {
			return
		}
		for k, v := range e.Map() {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Map returns the environ as a map, building it on the first call. The map is the
// environ from then on: changes to it are changes to the environ. It is nil for the
// zero Environ.
func (e Environ) Map() map[string]any {
	if e.e == nil {
		return nil
	}
	if e.e.m == nil {
		e.e.m = e.e.build()
	}
	return e.e.m
}

// Input returns wsgi.input.
func (e Environ) Input() *Input {
	if e.e != nil && e.e.m == nil {
		return e.e.input
	}
	in, _ := e.value(KeyInput).(*Input)
	return in
}

// Errors returns wsgi.errors, or io.Discard when it is absent.
func (e Environ) Errors() io.Writer {
	if e.e != nil && e.e.m == nil && e.e.errs != nil {
		return e.e.errs
	}
	if w, ok := e.value(KeyErrors).(io.Writer); ok {
		return w
	}
	return io.Discard
}

// FileWrapper returns wsgi.file_wrapper, or NewFileWrapper when it is absent.
func (e Environ) FileWrapper() FileWrapperFunc {
	if f, ok := e.value(KeyFileWrapper).(FileWrapperFunc); ok {
		return f
	}
	return NewFileWrapper
}

// Context returns asgo.context, or context.Background when it is absent.
func (e Environ) Context() context.Context {
	if e.e != nil && e.e.m == nil && e.e.ctx != nil {
		return e.e.ctx
	}
	if c, ok := e.value(KeyContext).(context.Context); ok {
		return c
	}
	return context.Background()
}

// value is Lookup without the presence flag.
func (e Environ) value(key string) any {
	v, _ := e.Lookup(key)
	return v
}

// newEnviron returns the lazy environ of a request.
func newEnviron(env *environ, scope *asgi.HTTPScope, in *Input, errs io.Writer, ctx context.Context) Environ {
	*env = environ{scope: scope, input: in, errs: errs, ctx: ctx}
	if _, ok := scope.Extensions[asgi.ExtUWSGIVars]; ok {
		// The vars a front server sent over uwsgi add keys the lazy lookups do not
		// derive: such an environ is built at once.
		env.m = env.build()
	}
	return Environ{env}
}

// lazy computes the value of key from the request, as build would store it.
func (e *environ) lazy(key string) (any, bool) {
	switch key {
	case "REQUEST_METHOD":
		return methodValue(e.scope.Method), true
	case "SERVER_PROTOCOL":
		return protocolValue(e.scope.HTTPVersion), true
	case KeyVersion:
		return wsgiVersion, true
	case KeyInput:
		return e.input, true
	case KeyErrors:
		return e.errs, true
	case KeyMultithread:
		return true, true
	case KeyMultiprocess, KeyRunOnce:
		return false, true
	case KeyFileWrapper:
		return fileWrapper, true
	case KeyContext:
		return e.ctx, true
	case KeyScope:
		return e.scope, true
	}
	if s, ok := e.lazyString(key); ok {
		return s, true
	}
	return nil, false
}

// lazyString computes the value of a key whose value is a string; ok is false for an
// absent key or one whose value is not a string.
func (e *environ) lazyString(key string) (v string, ok bool) {
	s := e.scope
	switch key {
	case "REQUEST_METHOD":
		return s.Method, true
	case "SCRIPT_NAME":
		return strings.TrimSuffix(s.RootPath, "/"), true
	case "PATH_INFO":
		return pathInfo(s), true
	case "QUERY_STRING":
		return string(s.QueryString), true
	case "SERVER_PROTOCOL":
		return protocolValue(s.HTTPVersion).(string), true
	case "SERVER_NAME":
		name, _ := serverAddr(s, e.host)
		return name, true
	case "SERVER_PORT":
		_, port := serverAddr(s, e.host)
		return port, true
	case "REMOTE_ADDR":
		if s.Client == nil {
			return "", true
		}
		return s.Client.Host, true
	case "REMOTE_PORT":
		if s.Client == nil {
			return "", true
		}
		return strconv.Itoa(s.Client.Port), true
	case KeyURLScheme:
		return s.Scheme, true
	case "CONTENT_TYPE", "CONTENT_LENGTH":
		v, _ := headerValue(s.Headers, key)
		return v, true
	}
	if strings.HasPrefix(key, "HTTP_") {
		return headerValue(s.Headers, key)
	}
	return "", false
}

// host is HTTP_HOST, for serverAddr.
func (e *environ) host() string {
	v, _ := headerValue(e.scope.Headers, "HTTP_HOST")
	return v
}

// headerValue returns the value of the CGI key of the header fields mapping to key,
// repeated fields joined as addHeaders joins them; ok is false when none maps to it.
func headerValue(h asgi.Headers, key string) (v string, ok bool) {
	for i := range h {
		k, sep, keep := cgiKeyMatch(h[i].Name, key)
		if !keep || !k {
			continue
		}
		switch {
		case !ok:
			v, ok = string(h[i].Value), true
		case v == "":
			v = string(h[i].Value)
		default:
			v = v + sep + string(h[i].Value)
		}
	}
	return v, ok
}

// cgiKeyMatch reports whether header name maps to the environ key key (as cgiKey maps
// it, without building the key), with the separator of repeated fields; keep is false
// for names the environ must not carry.
func cgiKeyMatch(name []byte, key string) (match bool, sep string, keep bool) {
	switch {
	case asgi.EqualFold(name, "content-type"):
		return key == "CONTENT_TYPE", ", ", true
	case asgi.EqualFold(name, "content-length"):
		return key == "CONTENT_LENGTH", ", ", true
	case asgi.EqualFold(name, "cookie"):
		return key == "HTTP_COOKIE", "; ", true
	case len(name) == 0 || name[0] == ':':
		return false, "", false
	}
	if len(key) != 5+len(name) || !strings.HasPrefix(key, "HTTP_") {
		return false, ", ", true
	}
	for i, c := range name {
		switch {
		case c == '_':
			return false, "", false
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		if key[5+i] != c {
			return false, ", ", true
		}
	}
	return true, ", ", true
}

// build returns the environ as a map: the CGI and wsgi keys of the request. Header
// fields whose names hold an underscore are dropped, as gunicorn and nginx do, so
// "X_Forwarded_For" cannot pose as "X-Forwarded-For" (both map to HTTP_X_FORWARDED_FOR).
func (env *environ) build() map[string]any {
	scope := env.scope
	e := make(map[string]any, 24+len(scope.Headers))
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
	e[KeyInput] = env.input
	e[KeyErrors] = env.errs
	e[KeyMultithread] = true
	e[KeyMultiprocess] = false
	e[KeyRunOnce] = false
	e[KeyFileWrapper] = fileWrapper
	e[KeyContext] = env.ctx
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
func addHeaders(e map[string]any, h asgi.Headers) {
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

// serverValues caches the SERVER_NAME and SERVER_PORT of a server address (and their
// boxed values), which are the same for every request on one listener.
type serverValues struct {
	addr             asgi.Addr
	port             string
	nameBox, portBox any
}

var lastServer atomic.Pointer[serverValues]

// boundServer returns the cached values of the bound address a.
func boundServer(a *asgi.Addr) *serverValues {
	v := lastServer.Load()
	if v == nil || v.addr != *a {
		port := strconv.Itoa(a.Port)
		v = &serverValues{addr: *a, port: port, nameBox: a.Host, portBox: port}
		lastServer.Store(v)
	}
	return v
}

// serverAddr returns SERVER_NAME and SERVER_PORT: the bound address, or the Host header
// (host() returns it) and the scheme's default port when the server has no address
// (Unix socket).
func serverAddr(scope *asgi.HTTPScope, host func() string) (name, port string) {
	if scope.Server != nil {
		return scope.Server.Host, boundServer(scope.Server).port
	}
	name = host()
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.HasSuffix(name, "]") {
		name, port = name[:i], name[i+1:]
	}
	if port == "" {
		port = "80"
		if scope.Scheme == "https" {
			port = "443"
		}
	}
	if name == "" {
		name = "localhost"
	}
	return name, port
}

// addServer sets SERVER_NAME and SERVER_PORT (after the headers, which it may read).
func addServer(e map[string]any, scope *asgi.HTTPScope) {
	if scope.Server != nil {
		v := boundServer(scope.Server)
		e["SERVER_NAME"], e["SERVER_PORT"] = v.nameBox, v.portBox
		return
	}
	e["SERVER_NAME"], e["SERVER_PORT"] = serverAddr(scope, func() string { s, _ := e["HTTP_HOST"].(string); return s })
}

func addClient(e map[string]any, client *asgi.Addr) {
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
func addUWSGIVars(e map[string]any, scope *asgi.HTTPScope) {
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
