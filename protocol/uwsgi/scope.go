package uwsgi

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// ScopeDefaults are what the session knows that the vars may not say.
type ScopeDefaults struct {
	// RootPath is the root path used when there is no SCRIPT_NAME var (--root-path).
	RootPath string
	// Server is the listener's address, used when there is no SERVER_NAME var.
	Server *asgi.Addr
	// Extensions the server offers on every HTTP scope (e.g. http.response.pathsend);
	// they are copied into the scope's own Extensions map, next to ExtUWSGIVars.
	Extensions map[string]any
	// State is the lifespan state the scope's State reads through to (see asgi.State).
	State map[string]any
}

// HTTPScope builds the ASGI http scope of the request, the same scope the HTTP/1.1
// path builds for the request nginx received, and copies everything it keeps (the
// scope does not point into the parser's data). Call it after EventHead, before the
// next Parse. The mapping:
//
//   - method from REQUEST_METHOD;
//   - root_path from SCRIPT_NAME (without a trailing '/'), else d.RootPath;
//   - path from PATH_INFO (already decoded by nginx), else from REQUEST_URI (decoded).
//     PATH_INFO is the path below SCRIPT_NAME, as in CGI, unless it already starts with
//     SCRIPT_NAME: nginx's uwsgi_params send PATH_INFO $document_uri, the whole path,
//     and uWSGI's --manage-script-name makes the same choice. The ASGI path includes
//     the root path;
//   - raw_path from REQUEST_URI without its query (the path as the client sent it),
//     else the path;
//   - query_string from QUERY_STRING, else from REQUEST_URI after '?';
//   - headers from the HTTP_* vars (HTTP_X_FORWARDED_FOR becomes x-forwarded-for),
//     plus content-type and content-length from CONTENT_TYPE and CONTENT_LENGTH when
//     not empty. nginx also sends the client's Content-Type, Content-Length and
//     Transfer-Encoding as HTTP_* vars: those three are left out, because the body the
//     app receives is framed by CONTENT_LENGTH only (nginx de-chunks request bodies);
//   - client from REMOTE_ADDR and REMOTE_PORT;
//   - server from SERVER_NAME and SERVER_PORT, else d.Server;
//   - scheme from UWSGI_SCHEME, wsgi.url_scheme, HTTPS (on or 1 means https) or
//     REQUEST_SCHEME, the first present with a valid value, else http;
//   - http_version from SERVER_PROTOCOL (HTTP/1.0, HTTP/1.1, HTTP/2.0), else 1.1;
//   - extensions: ExtUWSGIVars with every var, plus d.Extensions.
func (r *Request) HTTPScope(d ScopeDefaults) *asgi.HTTPScope {
	root := d.RootPath
	if v, ok := r.get(kScriptName); ok {
		root = string(v)
	}
	root = strings.TrimSuffix(root, "/")
	uri, _ := r.get(kRequestURI)
	rawPath, uriQuery, hasQuery := bytes.Cut(originForm(uri), []byte{'?'})
	var path string
	if v, ok := r.get(kPathInfo); ok {
		path = string(v)
	} else {
		path = asgi.DecodePath(rawPath)
	}
	if !underRoot(path, root) {
		path = root + path
	}
	s := &asgi.HTTPScope{
		ASGI:        asgi.DefaultInfo,
		HTTPVersion: r.httpVersion(),
		Method:      methodString(r.Method()),
		Scheme:      r.scheme(),
		Path:        path,
		RootPath:    root,
		Headers:     r.headers(),
		Client:      r.client(),
		Server:      r.server(d.Server),
		State:       asgi.NewState(d.State),
		Extensions:  r.extensions(d.Extensions),
	}
	if len(rawPath) > 0 {
		s.RawPath = bytes.Clone(rawPath)
	} else {
		s.RawPath = []byte(path)
	}
	if q, ok := r.get(kQueryString); ok {
		s.QueryString = bytes.Clone(q)
	} else if hasQuery {
		s.QueryString = bytes.Clone(uriQuery)
	}
	return s
}

// originForm strips the scheme and authority of an absolute-form REQUEST_URI.
func originForm(uri []byte) []byte {
	if len(uri) == 0 || uri[0] == '/' {
		return uri
	}
	if i := bytes.Index(uri, []byte("://")); i > 0 {
		rest := uri[i+3:]
		if j := bytes.IndexAny(rest, "/?"); j >= 0 {
			return rest[j:]
		}
		return nil
	}
	return uri
}

// underRoot reports whether path is root or below it.
func underRoot(path, root string) bool {
	if root == "" || !strings.HasPrefix(path, root) {
		return root == ""
	}
	return len(path) == len(root) || path[len(root)] == '/'
}

var commonMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}

// methodString returns m as a string without allocating for the common methods.
func methodString(m []byte) string {
	for _, s := range commonMethods {
		if string(m) == s {
			return s
		}
	}
	return string(m)
}

func (r *Request) httpVersion() string {
	v, _ := r.get(kServerProtocol)
	switch string(v) {
	case "HTTP/1.0":
		return "1.0"
	case "HTTP/2.0", "HTTP/2":
		return "2"
	}
	return "1.1"
}

// scheme returns the first valid scheme the vars state, else http.
func (r *Request) scheme() string {
	for _, k := range [...]known{kUWSGIScheme, kWSGIURLScheme} {
		if v, ok := r.get(k); ok {
			if s := schemeName(v); s != "" {
				return s
			}
		}
	}
	if v, ok := r.get(kHTTPS); ok && len(v) > 0 {
		if asgi.EqualFold(v, "on") || string(v) == "1" {
			return "https"
		}
		if asgi.EqualFold(v, "off") || string(v) == "0" {
			return "http"
		}
	}
	if v, ok := r.get(kRequestScheme); ok {
		if s := schemeName(v); s != "" {
			return s
		}
	}
	return "http"
}

func schemeName(v []byte) string {
	switch {
	case asgi.EqualFold(v, "https"):
		return "https"
	case asgi.EqualFold(v, "http"):
		return "http"
	}
	return ""
}

// headerName returns the header name an HTTP_* var stands for, or false for other
// vars and for the framing fields left out of the scope.
func headerName(key []byte) ([]byte, bool) {
	if len(key) <= 5 || string(key[:5]) != "HTTP_" {
		return nil, false
	}
	switch string(key[5:]) {
	case "CONTENT_TYPE", "CONTENT_LENGTH", "TRANSFER_ENCODING":
		return nil, false
	}
	return key[5:], true
}

// headers builds the scope headers in one allocation for all bytes (plus the slice).
func (r *Request) headers() asgi.Headers {
	ct, _ := r.get(kContentType)
	cl, _ := r.get(kContentLength)
	size, count := len(ct)+len(cl), 0
	for _, v := range r.Vars {
		if name, ok := headerName(v.Key); ok {
			size += len(name) + len(v.Value)
			count++
		}
	}
	h := make(asgi.Headers, 0, count+2)
	buf := make([]byte, 0, size)
	field := func(name, value []byte, lower bool) {
		start := len(buf)
		for _, c := range name {
			if lower {
				if c == '_' {
					c = '-'
				} else if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
			}
			buf = append(buf, c)
		}
		mid := len(buf)
		buf = append(buf, value...)
		h = append(h, asgi.HeaderField{Name: buf[start:mid:mid], Value: buf[mid:len(buf):len(buf)]})
	}
	for _, v := range r.Vars {
		if name, ok := headerName(v.Key); ok {
			field(name, v.Value, true)
		}
	}
	if len(ct) > 0 {
		field([]byte("content-type"), ct, false)
	}
	if len(cl) > 0 {
		field([]byte("content-length"), cl, false)
	}
	return h
}

func (r *Request) client() *asgi.Addr {
	host, _ := r.get(kRemoteAddr)
	if len(host) == 0 {
		return nil
	}
	port, _ := r.get(kRemotePort)
	return &asgi.Addr{Host: string(host), Port: atoi(port)}
}

func (r *Request) server(fallback *asgi.Addr) *asgi.Addr {
	host, _ := r.get(kServerName)
	if len(host) == 0 {
		return fallback
	}
	port, ok := r.get(kServerPort)
	p := atoi(port)
	if !ok || len(port) == 0 {
		p = 80
		if r.scheme() == "https" {
			p = 443
		}
	}
	return &asgi.Addr{Host: string(host), Port: p}
}

// atoi parses a port; anything that is not one gives 0.
func atoi(b []byte) int {
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 || n > 65535 {
		return 0
	}
	return n
}

// extensions returns the scope's own map: shared plus ExtUWSGIVars.
func (r *Request) extensions(shared map[string]any) map[string]any {
	ext := make(map[string]any, len(shared)+1)
	for k, v := range shared {
		ext[k] = v
	}
	ext[asgi.ExtUWSGIVars] = r.VarsMap()
	return ext
}

// VarsMap returns the vars as a new map, the value of the scope's ExtUWSGIVars
// extension. A repeated HTTP_* var (nginx before 1.23 sends one per header field) gets
// its values joined with ", " ("; " for HTTP_COOKIE), as nginx 1.23+ and the WSGI
// environ do; for any other repeated key the last value wins. Keys and values share one
// string.
func (r *Request) VarsMap() map[string]string {
	size := 0
	for _, v := range r.Vars {
		size += len(v.Key) + len(v.Value)
	}
	buf := make([]byte, 0, size)
	for _, v := range r.Vars {
		buf = append(append(buf, v.Key...), v.Value...)
	}
	all := string(buf)
	m := make(map[string]string, len(r.Vars))
	off := 0
	for _, v := range r.Vars {
		k := all[off : off+len(v.Key)]
		off += len(v.Key)
		val := all[off : off+len(v.Value)]
		off += len(v.Value)
		if old, dup := m[k]; dup && strings.HasPrefix(k, "HTTP_") {
			sep := ", "
			if k == "HTTP_COOKIE" {
				sep = "; "
			}
			val = old + sep + val
		}
		m[k] = val
	}
	return m
}
