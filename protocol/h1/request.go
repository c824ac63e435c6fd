package h1

import "github.com/asgo-dev/asgo/protocol/asgi"

// Request is the head of one request as parsed by Parser. Its byte slices point into the
// data given to Parse (or are static): they are valid until the next Parse call and
// only while the caller has not discarded or overwritten those bytes. The Request
// itself is reused for the next message.
type Request struct {
	Method []byte
	// Target is the raw request-target.
	Target []byte
	// Path is the raw path: of an origin-form target, of an absolute-form target ("/"
	// if empty), or "*" for asterisk-form. It is empty for authority-form (CONNECT).
	Path []byte
	// Query is the raw query without '?', nil if the target has none.
	Query []byte
	// Host is the authority of an absolute-form or authority-form target, else the
	// Host field value (nil if absent, which only HTTP/1.0 allows). For an
	// absolute-form target the Host field in Headers is replaced by (or, when absent,
	// added as) this authority.
	Host []byte
	// ProtoMinor is 0 for HTTP/1.0 and 1 for HTTP/1.1 (also for a higher minor
	// version such as HTTP/1.2, which is served as HTTP/1.1).
	ProtoMinor int
	// Headers holds every field in order with lower-cased names. Its backing array is
	// reused across requests.
	Headers asgi.Headers
	// ContentLength is the declared body length, -1 if absent.
	ContentLength int64
	// Chunked is set when the body uses the chunked transfer coding.
	Chunked bool
	// KeepAlive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
	// "Connection: keep-alive".
	KeepAlive bool
	// Expect100 is set for an HTTP/1.1 request with "Expect: 100-continue". Other
	// expectations are ignored (RFC 9110 10.1.1 allows that instead of 417).
	Expect100 bool
	// Upgrade is the Upgrade field value of an HTTP/1.1 request whose Connection field
	// lists "upgrade" (e.g. "websocket", "h2c"), else nil.
	Upgrade []byte
}

// IsHead reports whether the method is HEAD.
func (r *Request) IsHead() bool { return string(r.Method) == "HEAD" }

// IsGet reports whether the method is GET.
func (r *Request) IsGet() bool { return string(r.Method) == "GET" }

// IsConnect reports whether the method is CONNECT.
func (r *Request) IsConnect() bool { return string(r.Method) == "CONNECT" }

// HasBody reports whether the request announced a body (chunked or Content-Length > 0).
func (r *Request) HasBody() bool { return r.Chunked || r.ContentLength > 0 }

// reset clears r for a new message, keeping the Headers backing array.
func (r *Request) reset() {
	h := r.Headers[:0]
	*r = Request{Headers: h, ContentLength: -1}
}
