package eventloop

import (
	"unsafe"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/h2"
)

// httpExtensions is shared, read-only, by every HTTP/1.1 and HTTP/2 scope: it
// advertises the response extensions the server implements.
var httpExtensions = map[string]any{
	asgi.ExtHTTPResponseTrailers:  map[string]any{},
	asgi.ExtHTTPResponsePathsend:  map[string]any{},
	asgi.ExtHTTPResponseEarlyHint: map[string]any{},
}

// http10Extensions is httpExtensions for HTTP/1.0 requests, which cannot carry the
// 103 of an early hint.
var http10Extensions = map[string]any{
	asgi.ExtHTTPResponseTrailers: map[string]any{},
	asgi.ExtHTTPResponsePathsend: map[string]any{},
}

// h1PlainExtensions and h1Plain10Extensions are httpExtensions and http10Extensions for
// HTTP/1.x on a cleartext connection, where pathsend bodies go out with sendfile
// (sendfile.go). Shared, read-only.
var (
	pathsendWithSendfile = map[string]any{asgi.PathsendSendfile: true}
	h1PlainExtensions    = map[string]any{
		asgi.ExtHTTPResponseTrailers:  map[string]any{},
		asgi.ExtHTTPResponsePathsend:  pathsendWithSendfile,
		asgi.ExtHTTPResponseEarlyHint: map[string]any{},
	}
	h1Plain10Extensions = map[string]any{
		asgi.ExtHTTPResponseTrailers: map[string]any{},
		asgi.ExtHTTPResponsePathsend: pathsendWithSendfile,
	}
)

// withoutEarlyHint returns the extensions ext (shared, read-only) for an HTTP/1.0
// request: without http.response.early_hint. Plain connections share
// http10Extensions; TLS ones (rare for HTTP/1.0) get a copy.
func withoutEarlyHint(ext map[string]any) map[string]any {
	if _, ok := ext[asgi.ExtHTTPResponseEarlyHint]; !ok {
		return ext
	}
	if len(ext) == len(httpExtensions) {
		return http10Extensions
	}
	out := make(map[string]any, len(ext)-1)
	for k, v := range ext {
		if k != asgi.ExtHTTPResponseEarlyHint {
			out[k] = v
		}
	}
	return out
}

// newHTTPScope builds the scope of an HTTP request of any version, HTTP/1.1 and HTTP/2
// alike: the fields of its head (path already decoded; raw path, query and headers
// owned by the scope) and what the server adds (addresses, root_path, lifespan state,
// extensions). Loop goroutine only.
func newHTTPScope(c *conn, version, method, scheme, path string, rawPath, query []byte, headers asgi.Headers) *asgi.HTTPScope {
	s := new(asgi.HTTPScope)
	fillHTTPScope(s, c, version, method, scheme, path, rawPath, query, headers, c.srv.state())
	return s
}

// fillHTTPScope is newHTTPScope into a scope the caller allocated. Loop goroutine only.
func fillHTTPScope(s *asgi.HTTPScope, c *conn, version, method, scheme, path string, rawPath, query []byte, headers asgi.Headers, state *asgi.State) {
	client, server := c.addrs()
	ext := c.httpExt()
	if version == "1.0" {
		ext = withoutEarlyHint(ext)
	}
	*s = asgi.HTTPScope{
		ASGI:        asgi.DefaultInfo,
		HTTPVersion: version,
		Method:      method,
		Scheme:      scheme,
		Path:        c.srv.cfg.RootPath + path,
		RawPath:     rawPath,
		QueryString: query,
		RootPath:    c.srv.cfg.RootPath,
		Headers:     headers,
		Client:      client,
		Server:      server,
		State:       state,
		Extensions:  ext,
	}
}

// h1ScopeIn is h1Scope built in the request's stream: the scope is stored in st (one
// allocation for both), and the raw path, query and header fields' bytes are copied
// into one buffer, each slice capped so that an app appending to one cannot overwrite
// the next. A recycled stream's buffer and header slice are reused when big enough.
// Loop only.
func h1ScopeIn(st *h1Stream, c *conn, req *h1.Request) {
	n := 2*len(req.Path) + len(req.Query) // raw and decoded path
	for i := range req.Headers {
		n += len(req.Headers[i].Name) + len(req.Headers[i].Value)
	}
	buf := st.scopeBuf
	if cap(buf) < n {
		buf = make([]byte, 0, n)
	}
	st.scopeBuf = buf
	var rawPath, query []byte
	buf, rawPath = appendCapped(buf, req.Path)
	if req.Query != nil {
		buf, query = appendCapped(buf, req.Query)
	}
	var headers asgi.Headers // a recycled stream's slice, when it is big enough
	if req.Headers != nil {
		headers = st.scopeVal.Headers[:0]
		if headers == nil || cap(headers) < len(req.Headers) {
			headers = make(asgi.Headers, 0, len(req.Headers))
		}
	}
	for i := range req.Headers {
		var name, value []byte
		buf, name = appendCapped(buf, req.Headers[i].Name)
		buf, value = appendCapped(buf, req.Headers[i].Value)
		headers = append(headers, asgi.HeaderField{Name: name, Value: value})
	}
	// The decoded path goes last, behind every slice handed out (each capped at its
	// length), so no app can reach its bytes to change them: it can back a string.
	start := len(buf)
	buf = asgi.AppendDecodedPath(buf, req.Path)
	var path string
	if len(buf) > start {
		path = unsafe.String(&buf[start], len(buf)-start)
	}
	version := "1.1"
	if req.ProtoMinor == 0 {
		version = "1.0"
	}
	st.stateVal.Reset(c.srv.lifespanState())
	fillHTTPScope(&st.scopeVal, c, version, methodString(req.Method), c.httpScheme(), path,
		rawPath, query, headers, &st.stateVal)
	if c.tls == nil {
		st.scopeVal.Extensions = h1PlainExtensions
		if version == "1.0" {
			st.scopeVal.Extensions = h1Plain10Extensions
		}
	}
	st.scope = &st.scopeVal
}

// appendCapped appends b to buf and returns buf and the appended bytes, their capacity
// capped at their length.
func appendCapped(buf, b []byte) ([]byte, []byte) {
	s := len(buf)
	buf = append(buf, b...)
	return buf, buf[s:len(buf):len(buf)]
}

// h1Scope is the scope of an HTTP/1.x request: it copies what the app needs out of the
// parser's request, whose bytes die when the traffic callback returns. version is
// the scope's http_version: "2" for a request that upgrades to h2c, else "" for the
// request's own. Loop goroutine only.
func h1Scope(c *conn, req *h1.Request, version string) *asgi.HTTPScope {
	if version == "" {
		version = "1.1"
		if req.ProtoMinor == 0 {
			version = "1.0"
		}
	}
	return newHTTPScope(c, version, methodString(req.Method), c.httpScheme(), asgi.DecodePath(req.Path),
		cloneBytes(req.Path), cloneBytes(req.Query), req.Headers.Clone())
}

// h2Scope is the scope of an HTTP/2 request. The request is the server's once
// OnRequest has it, so the scope shares its header bytes. Loop goroutine only.
func h2Scope(c *conn, req *h2.Request) *asgi.HTTPScope {
	rawPath, query := req.Target()
	scheme := req.Scheme
	if scheme == "" {
		scheme = c.httpScheme() // CONNECT has no :scheme
	}
	return newHTTPScope(c, "2", req.Method, scheme, asgi.DecodePath(rawPath), []byte(rawPath), []byte(query), req.Headers)
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

var commonMethods = []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}

// methodString returns method as a string without allocating for the common methods.
func methodString(m []byte) string {
	for _, s := range commonMethods {
		if string(m) == s {
			return s
		}
	}
	return string(m)
}

// wsExtensions is shared, read-only, by every WebSocket scope: the server implements
// the denial-response extension.
var wsExtensions = map[string]any{asgi.ExtWebSocketHTTPResponse: map[string]any{}}

// wsScope is the scope of a WebSocket upgrade request, copied out of the parser's
// request like h1Scope. Loop goroutine only.
func wsScope(c *conn, req *h1.Request, subprotocols []string) *asgi.WebSocketScope {
	client, server := c.addrs()
	return &asgi.WebSocketScope{
		ASGI:         asgi.DefaultInfo,
		HTTPVersion:  "1.1",
		Scheme:       c.wsScheme(),
		Path:         c.srv.cfg.RootPath + asgi.DecodePath(req.Path),
		RawPath:      cloneBytes(req.Path),
		QueryString:  cloneBytes(req.Query),
		RootPath:     c.srv.cfg.RootPath,
		Headers:      req.Headers.Clone(),
		Client:       client,
		Server:       server,
		Subprotocols: subprotocols,
		State:        c.srv.state(),
		Extensions:   c.wsExt(),
	}
}
