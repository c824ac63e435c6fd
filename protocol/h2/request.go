package h2

import (
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Request is a validated request head from a HEADERS block. The host owns it (and every
// byte slice in it) once OnRequest returned.
type Request struct {
	Method    string
	Scheme    string
	Authority string
	// Path is the :path pseudo-header as sent: path and optional query.
	Path string
	// Protocol is the :protocol pseudo-header of an extended CONNECT (RFC 8441), for
	// example "websocket"; empty for every other request. When it is set, Method is
	// CONNECT and Scheme, Path and Authority are present (a request without them is
	// malformed). Which protocols are served is the host's choice.
	Protocol string
	// Headers are the regular fields with lower-case names, in order. When :authority
	// is present it comes first as "host", replacing any host field (ASGI HTTP spec).
	Headers asgi.Headers
	// ContentLength is the declared content-length, or -1.
	ContentLength int64
	// EndStream is set when the HEADERS frame ended the stream (no body).
	EndStream bool
}

// connectionHeaders are fields that RFC 9113 8.2.2 forbids in HTTP/2 messages.
var connectionHeaders = [...]string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}

func isConnectionHeader(name string) bool {
	for _, h := range connectionHeaders {
		if name == h {
			return true
		}
	}
	return false
}

// parseRequest validates a decoded request header block (RFC 9113 8.3.1, 8.2.2; RFC
// 8441 4 when extended is set) and builds the Request. Malformed requests return a
// reason for a PROTOCOL_ERROR.
func parseRequest(f *http2.MetaHeadersFrame, extended bool) (*Request, string) {
	req := &Request{ContentLength: -1, EndStream: f.StreamEnded()}
	if reason := req.setPseudo(f.PseudoFields(), extended); reason != "" {
		return nil, reason
	}
	regular := f.RegularFields()
	if reason := req.checkRegular(regular); reason != "" {
		return nil, reason
	}
	req.Headers = buildHeaders(req.Authority, regular)
	return req, ""
}

func (r *Request) setPseudo(fields []hpack.HeaderField, extended bool) string {
	hasProtocol := false
	for _, hf := range fields {
		switch hf.Name {
		case ":method":
			r.Method = hf.Value
		case ":scheme":
			r.Scheme = hf.Value
		case ":authority":
			r.Authority = hf.Value
		case ":path":
			r.Path = hf.Value
		case ":protocol":
			if !extended {
				return "invalid pseudo-header :protocol" // not advertised
			}
			r.Protocol, hasProtocol = hf.Value, true
		default: // :status
			return "invalid pseudo-header " + hf.Name
		}
	}
	if r.Method == "" {
		return "missing :method"
	}
	if hasProtocol {
		return r.checkExtendedConnect()
	}
	if r.Method == "CONNECT" {
		if r.Scheme != "" || r.Path != "" || r.Authority == "" {
			return "malformed CONNECT request"
		}
		return ""
	}
	if r.Scheme == "" || r.Path == "" {
		return "missing :scheme or :path"
	}
	if r.Path[0] != '/' && !(r.Path == "*" && r.Method == "OPTIONS") {
		return "invalid :path"
	}
	return ""
}

// checkExtendedConnect validates a request with :protocol (RFC 8441 4): a CONNECT
// with a non-empty protocol, :scheme, :authority and an origin-form :path.
func (r *Request) checkExtendedConnect() string {
	switch {
	case r.Method != "CONNECT":
		return ":protocol on a method other than CONNECT"
	case r.Protocol == "":
		return "empty :protocol"
	case r.Scheme == "" || r.Path == "" || r.Authority == "":
		return "extended CONNECT without :scheme, :path or :authority"
	case r.Path[0] != '/':
		return "invalid :path"
	}
	return ""
}

func (r *Request) checkRegular(fields []hpack.HeaderField) string {
	for _, hf := range fields {
		if isConnectionHeader(hf.Name) {
			return "connection-specific header " + hf.Name
		}
		switch hf.Name {
		case "te":
			if hf.Value != "trailers" {
				return "te other than trailers"
			}
		case "content-length":
			n, ok := parseContentLength(hf.Value)
			if !ok || r.ContentLength >= 0 && r.ContentLength != n {
				return "invalid content-length"
			}
			r.ContentLength = n
		}
	}
	if r.EndStream && r.ContentLength > 0 {
		return "content-length without body"
	}
	return ""
}

func parseContentLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// buildHeaders copies the fields into asgi.Headers with one allocation for all bytes.
func buildHeaders(authority string, fields []hpack.HeaderField) asgi.Headers {
	size, count := 0, len(fields)
	if authority != "" {
		size += len("host") + len(authority)
		count++
	}
	for _, hf := range fields {
		size += len(hf.Name) + len(hf.Value)
	}
	buf := make([]byte, 0, size)
	out := make(asgi.Headers, 0, count)
	if authority != "" {
		buf, out = appendField(buf, out, "host", authority)
	}
	for _, hf := range fields {
		if authority != "" && hf.Name == "host" {
			continue
		}
		buf, out = appendField(buf, out, hf.Name, hf.Value)
	}
	return out
}

func appendField(buf []byte, out asgi.Headers, name, value string) ([]byte, asgi.Headers) {
	s := len(buf)
	buf = append(buf, name...)
	n := buf[s:len(buf):len(buf)]
	s = len(buf)
	buf = append(buf, value...)
	return buf, append(out, asgi.HeaderField{Name: n, Value: buf[s:len(buf):len(buf)]})
}

// checkTrailers validates a request trailer block: END_STREAM set, no pseudo-headers,
// no connection-specific fields (RFC 9113 8.1).
func checkTrailers(f *http2.MetaHeadersFrame) string {
	if !f.StreamEnded() {
		return "trailers without END_STREAM"
	}
	if len(f.PseudoFields()) > 0 {
		return "pseudo-header in trailers"
	}
	for _, hf := range f.Fields {
		if isConnectionHeader(hf.Name) {
			return "connection-specific header in trailers"
		}
	}
	return ""
}

// Target returns the request's path and query as sent (split at the first '?'); both
// are empty for a plain CONNECT, whose target is the authority (an extended CONNECT
// has a :path).
func (r *Request) Target() (path, query string) {
	if r.Method == "CONNECT" && r.Protocol == "" {
		return "", ""
	}
	path, query, _ = strings.Cut(r.Path, "?")
	return path, query
}
