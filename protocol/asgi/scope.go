package asgi

// Scope describes the unit of work an App is called for. It is one of *HTTPScope,
// *WebSocketScope or *LifespanScope; switch on the concrete type.
type Scope interface {
	// Type returns "http", "websocket" or "lifespan".
	Type() string
}

// Scope type names.
const (
	ScopeHTTP      = "http"
	ScopeWebSocket = "websocket"
	ScopeLifespan  = "lifespan"
)

// Info is the "asgi" key of every scope.
type Info struct {
	Version     string `json:"version"`
	SpecVersion string `json:"spec_version,omitempty"`
}

// DefaultInfo is the Info reported by asgo's servers.
var DefaultInfo = Info{Version: Version, SpecVersion: SpecVersion}

// Addr is a host and port pair, as in the ASGI client and server keys.
type Addr struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

// HTTPScope is the scope of one HTTP request (HTTP/1.x request or HTTP/2 stream).
// The app owns it: the server does not touch it after calling the app.
type HTTPScope struct {
	ASGI        Info   `json:"asgi"`
	HTTPVersion string `json:"http_version"` // "1.0", "1.1" or "2"
	Method      string `json:"method"`       // upper-case
	Scheme      string `json:"scheme"`       // "http" or "https"
	// Path is the percent-decoded request path (UTF-8), without the root path prefix
	// removed: ASGI apps strip RootPath themselves, as the spec says.
	Path string `json:"path"`
	// RawPath is the path exactly as it appeared on the wire, without the query.
	RawPath []byte `json:"raw_path"`
	// QueryString is the raw query after '?', still percent-encoded.
	QueryString []byte  `json:"query_string"`
	RootPath    string  `json:"root_path"`
	Headers     Headers `json:"headers"`
	Client      *Addr   `json:"client"`
	Server      *Addr   `json:"server"`
	// State is this request's copy of the lifespan state (copied on its first write).
	State      *State         `json:"state,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Type returns "http".
func (*HTTPScope) Type() string { return ScopeHTTP }

// WebSocketScope is the scope of one WebSocket connection.
type WebSocketScope struct {
	ASGI         Info           `json:"asgi"`
	HTTPVersion  string         `json:"http_version"`
	Scheme       string         `json:"scheme"` // "ws" or "wss"
	Path         string         `json:"path"`
	RawPath      []byte         `json:"raw_path"`
	QueryString  []byte         `json:"query_string"`
	RootPath     string         `json:"root_path"`
	Headers      Headers        `json:"headers"`
	Client       *Addr          `json:"client"`
	Server       *Addr          `json:"server"`
	Subprotocols []string       `json:"subprotocols"`
	State        *State         `json:"state,omitempty"` // as HTTPScope.State
	Extensions   map[string]any `json:"extensions,omitempty"`
}

// Type returns "websocket".
func (*WebSocketScope) Type() string { return ScopeWebSocket }

// LifespanScope is the scope of the lifespan call. State is shared: what the app stores
// during startup is copied (shallowly) into every later request scope.
type LifespanScope struct {
	ASGI  Info           `json:"asgi"`
	State map[string]any `json:"state"`
}

// Type returns "lifespan".
func (*LifespanScope) Type() string { return ScopeLifespan }

// Extension names that servers may put into Scope.Extensions.
const (
	ExtHTTPResponseTrailers = "http.response.trailers"
	ExtHTTPResponsePathsend = "http.response.pathsend"
	// ExtHTTPResponseEarlyHint is advertised on HTTP/1.1 and HTTP/2 scopes: the app
	// may send HTTPResponseEarlyHint before its response.
	ExtHTTPResponseEarlyHint = "http.response.early_hint"
	ExtWebSocketHTTPResponse = "websocket.http.response"
	// PathsendSendfile is a key in the value of the http.response.pathsend extension
	// (a map[string]any; asgo's addition): true when the server sends pathsend bodies
	// on this scope's connection with sendfile, never holding the file in memory, so
	// that an app may pathsend a file of any size from the event loop (Inliner). See
	// PathsendZeroCopy.
	PathsendSendfile = "sendfile"
	// ExtUWSGIVars is set on scopes of requests that arrived over the uwsgi protocol
	// (nginx's uwsgi_pass): its value is a map[string]string of every var the front
	// server sent (CGI variables such as SCRIPT_NAME, PATH_INFO, REMOTE_ADDR, HTTPS,
	// DOCUMENT_ROOT, and HTTP_* for the request headers). For a repeated key the last
	// value wins, except repeated HTTP_* vars, which are joined as header fields are.
	// Read only. WSGI-style apps put these vars into their environ, as PEP 3333 lets a
	// server do.
	ExtUWSGIVars = "asgo.uwsgi.vars"
	// ExtTLS is ASGI's TLS extension, set on scopes of requests that arrived over
	// TLS: a map[string]any with "server_cert" (the server certificate as a PEM
	// string, or nil when the server cannot tell which one it sent),
	// "client_cert_chain" ([]any of PEM strings, the client's verified chain, leaf
	// first; empty without a client certificate), "tls_version" (int, e.g. 0x0304)
	// and "cipher_suite" (int, the IANA number). Read only.
	ExtTLS = "tls"
)

// PathsendZeroCopy reports whether the server sends s's http.response.pathsend bodies
// without holding them in memory (the PathsendSendfile key of the extension).
func PathsendZeroCopy(s *HTTPScope) bool {
	ext, _ := s.Extensions[ExtHTTPResponsePathsend].(map[string]any)
	on, _ := ext[PathsendSendfile].(bool)
	return on
}
