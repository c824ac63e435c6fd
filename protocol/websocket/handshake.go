package websocket

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strconv"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/internal/headerlist"
)

// acceptMagic is the GUID of RFC 6455 section 1.3 appended to the key.
const acceptMagic = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// keyLen is the length of a valid Sec-WebSocket-Key: 16 bytes, base64-encoded.
const keyLen = 24

// Handshake is a validated WebSocket opening handshake. Its fields are copies: it does
// not reference the request's header bytes.
type Handshake struct {
	// Key is the client's Sec-WebSocket-Key (24 base64 characters).
	Key [keyLen]byte
	// Subprotocols lists the Sec-WebSocket-Protocol values offered, in order.
	Subprotocols []string
	// Deflate is the permessage-deflate agreement; Deflate.Enabled is false when the
	// client offered nothing acceptable or compression is disabled.
	Deflate Deflate
}

// HandshakeError refuses an upgrade request with an HTTP error response: 400 for a
// malformed handshake, 426 for an unsupported version (with Sec-WebSocket-Version: 13
// in Headers), 403 for a forbidden Origin.
type HandshakeError struct {
	Status  int
	Reason  string
	Headers asgi.Headers
}

func (e *HandshakeError) Error() string {
	return "websocket: handshake refused with " + strconv.Itoa(e.Status) + ": " + e.Reason
}

var versionHeaders = asgi.H("Sec-WebSocket-Version", "13")

// Handshake refusals returned by ParseHandshake.
var (
	errNotGet        = &HandshakeError{Status: 400, Reason: "WebSocket handshake must be a GET"}
	errOldHTTP       = &HandshakeError{Status: 400, Reason: "WebSocket handshake needs HTTP/1.1"}
	errNoConnUpgrade = &HandshakeError{Status: 400, Reason: "missing Connection: upgrade"}
	errBadVersion    = &HandshakeError{Status: 426, Reason: "unsupported WebSocket version", Headers: versionHeaders}
	errBadKey        = &HandshakeError{Status: 400, Reason: "missing or invalid Sec-WebSocket-Key"}
	errBadOrigin     = &HandshakeError{Status: 403, Reason: "origin not allowed"}
	// ErrDenied is the refusal used when the app closes before accepting (403).
	ErrDenied = &HandshakeError{Status: 403, Reason: "WebSocket connection denied"}
)

// ErrSubprotocol is returned by AppendAccept when the app selects a subprotocol the
// client did not offer.
var ErrSubprotocol = errors.New("websocket: subprotocol not offered by the client")

// IsUpgrade reports whether a request asks for a WebSocket upgrade: its Upgrade header
// lists the token "websocket". The request must then be answered by ParseHandshake's
// rules (a 400/426/403 when invalid), never as a plain HTTP request. It does not
// allocate and is safe for concurrent use.
func IsUpgrade(headers asgi.Headers) bool {
	for i := range headers {
		if asgi.EqualFold(headers[i].Name, "upgrade") && headerlist.Contains(headers[i].Value, "websocket") {
			return true
		}
	}
	return false
}

// ParseHandshake validates an HTTP/1.x upgrade request (RFC 6455 section 4.2.1) with the
// given method, minor HTTP version and headers, checks the Origin against
// cfg.AllowedOrigins and negotiates permessage-deflate. cfg must be normalized. It is
// safe for concurrent use.
func ParseHandshake(method string, protoMinor int, headers asgi.Headers, cfg *Config) (Handshake, *HandshakeError) {
	var hs Handshake
	if err := checkRequestLine(method, protoMinor, headers); err != nil {
		return hs, err
	}
	if v := headers.Get("sec-websocket-version"); string(bytes.TrimSpace(v)) != "13" {
		return hs, errBadVersion
	}
	key := bytes.TrimSpace(headers.Get("sec-websocket-key"))
	if !validKey(key) {
		return hs, errBadKey
	}
	copy(hs.Key[:], key)
	if !originAllowed(headers.Get("origin"), cfg.AllowedOrigins) {
		return hs, errBadOrigin
	}
	hs.Subprotocols = parseSubprotocols(headers)
	if !cfg.DisableCompression {
		hs.Deflate = negotiateDeflate(headers, cfg)
	}
	return hs, nil
}

// ParseExtendedConnect validates the headers of an HTTP/2 extended CONNECT with
// ":protocol: websocket" (RFC 8441 section 5; the host has checked the pseudo-header
// fields): Sec-WebSocket-Version must be 13 (else 426), the Origin must be allowed
// (else 403), and the subprotocols and permessage-deflate are negotiated as for HTTP/1.1.
// There is no Sec-WebSocket-Key over HTTP/2: Handshake.Key stays zero. cfg must be
// normalized. Safe for concurrent use.
func ParseExtendedConnect(headers asgi.Headers, cfg *Config) (Handshake, *HandshakeError) {
	var hs Handshake
	if v := headers.Get("sec-websocket-version"); string(bytes.TrimSpace(v)) != "13" {
		return hs, errBadVersion
	}
	if !originAllowed(headers.Get("origin"), cfg.AllowedOrigins) {
		return hs, errBadOrigin
	}
	hs.Subprotocols = parseSubprotocols(headers)
	if !cfg.DisableCompression {
		hs.Deflate = negotiateDeflate(headers, cfg)
	}
	return hs, nil
}

// AcceptFields appends to dst the header fields of the 2xx response that accepts an
// extended CONNECT over HTTP/2 (RFC 8441 section 5): the app's subprotocol (empty for
// none), the permessage-deflate agreement, and the app's extra fields except those
// that would duplicate the handshake's own. It returns ErrSubprotocol when subprotocol
// was not offered. Headers must have been validated. Safe for concurrent use.
func AcceptFields(dst asgi.Headers, hs *Handshake, subprotocol string, extra asgi.Headers) (asgi.Headers, error) {
	if subprotocol != "" && !offered(hs.Subprotocols, subprotocol) {
		return dst, ErrSubprotocol
	}
	if subprotocol != "" {
		dst = append(dst, asgi.HeaderField{Name: []byte("sec-websocket-protocol"), Value: []byte(subprotocol)})
	}
	if hs.Deflate.Enabled {
		dst = append(dst, asgi.HeaderField{Name: []byte("sec-websocket-extensions"), Value: []byte(hs.Deflate.responseValue())})
	}
	for i := range extra {
		if !reservedAcceptHeader(extra[i].Name, subprotocol != "") {
			dst = append(dst, extra[i])
		}
	}
	return dst, nil
}

func checkRequestLine(method string, protoMinor int, headers asgi.Headers) *HandshakeError {
	switch {
	case method != "GET":
		return errNotGet
	case protoMinor < 1:
		return errOldHTTP
	}
	for _, v := range headers.Values("connection") {
		if headerlist.Contains(v, "upgrade") {
			return nil
		}
	}
	return errNoConnUpgrade
}

func validKey(key []byte) bool {
	if len(key) != keyLen {
		return false
	}
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], key)
	return err == nil && n == 16
}

func originAllowed(origin []byte, allowed []string) bool {
	if len(allowed) == 0 || origin == nil {
		return true
	}
	for _, a := range allowed {
		if a == "*" || asgi.EqualFold(origin, a) {
			return true
		}
	}
	return false
}

// parseSubprotocols splits every Sec-WebSocket-Protocol header on commas and keeps the
// items that are tokens (RFC 6455 section 4.1), so none can break the 101 response.
func parseSubprotocols(headers asgi.Headers) []string {
	var out []string
	for _, v := range headers.Values("sec-websocket-protocol") {
		for len(v) > 0 {
			var item []byte
			item, v, _ = headerlist.Cut(v)
			if asgi.ValidHeaderName(item) { // a token
				out = append(out, string(item))
			}
		}
	}
	return out
}

// AcceptKey returns the Sec-WebSocket-Accept value for key (RFC 6455 section 4.2.2).
func AcceptKey(key [keyLen]byte) [28]byte {
	var buf [keyLen + len(acceptMagic)]byte
	copy(buf[:], key[:])
	copy(buf[keyLen:], acceptMagic)
	sum := sha1.Sum(buf[:])
	var out [28]byte
	base64.StdEncoding.Encode(out[:], sum[:])
	return out
}

// AppendAccept appends the 101 Switching Protocols response for hs to dst, with the
// app's subprotocol (empty for none) and extra headers. Extra headers that would
// duplicate the handshake's own (Upgrade, Connection, Sec-WebSocket-Accept,
// Sec-WebSocket-Extensions, and Sec-WebSocket-Protocol when subprotocol is set) are
// dropped. Headers must have been validated (asgi.WebSocketOrder does). It returns
// ErrSubprotocol when subprotocol was not offered. Safe for concurrent use.
func AppendAccept(dst []byte, hs *Handshake, subprotocol string, extra asgi.Headers) ([]byte, error) {
	if subprotocol != "" && !offered(hs.Subprotocols, subprotocol) {
		return dst, ErrSubprotocol
	}
	accept := AcceptKey(hs.Key)
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = append(dst, accept[:]...)
	dst = append(dst, "\r\n"...)
	if subprotocol != "" {
		dst = appendHeader(dst, "Sec-WebSocket-Protocol", subprotocol)
	}
	if hs.Deflate.Enabled {
		dst = appendHeader(dst, "Sec-WebSocket-Extensions", hs.Deflate.responseValue())
	}
	for i := range extra {
		if !reservedAcceptHeader(extra[i].Name, subprotocol != "") {
			dst = appendField(dst, extra[i].Name, extra[i].Value)
		}
	}
	return append(dst, "\r\n"...), nil
}

func offered(list []string, s string) bool {
	for _, p := range list {
		if p == s {
			return true
		}
	}
	return false
}

func reservedAcceptHeader(name []byte, subprotocolSet bool) bool {
	switch {
	case asgi.EqualFold(name, "upgrade"), asgi.EqualFold(name, "connection"),
		asgi.EqualFold(name, "sec-websocket-accept"), asgi.EqualFold(name, "sec-websocket-extensions"):
		return true
	case asgi.EqualFold(name, "sec-websocket-protocol"):
		return subprotocolSet
	}
	return false
}

func appendHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

func appendField(dst, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// AppendHandshakeError appends the complete HTTP/1.1 error response for e (plain-text
// body, Connection: close) to dst. The connection must be closed after it is written.
// Safe for concurrent use.
func AppendHandshakeError(dst []byte, e *HandshakeError) []byte {
	body := e.Reason + "\n"
	dst = appendStatusLine(dst, e.Status)
	for i := range e.Headers {
		dst = appendField(dst, e.Headers[i].Name, e.Headers[i].Value)
	}
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// AppendDenialHead appends the head of an app's own denial response
// (websocket.http.response.start) to dst. Unless the app set Content-Length, the body
// is sent chunked (chunked reports it; pass it to AppendDenialBody). The response always
// carries Connection: close. Headers must have been validated. Safe for concurrent use.
func AppendDenialHead(dst []byte, status int, headers asgi.Headers) (out []byte, chunked bool) {
	dst = appendStatusLine(dst, status)
	chunked = !headers.Has("content-length")
	for i := range headers {
		n := headers[i].Name
		if asgi.EqualFold(n, "connection") || asgi.EqualFold(n, "transfer-encoding") {
			continue
		}
		dst = appendField(dst, n, headers[i].Value)
	}
	if chunked {
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	return append(dst, "Connection: close\r\n\r\n"...), chunked
}

// AppendDenialBody appends one websocket.http.response.body message to dst, as a chunk
// when chunked (with the last chunk when more is false). Safe for concurrent use.
func AppendDenialBody(dst, body []byte, more, chunked bool) []byte {
	if !chunked {
		return append(dst, body...)
	}
	if len(body) > 0 {
		dst = strconv.AppendInt(dst, int64(len(body)), 16)
		dst = append(dst, "\r\n"...)
		dst = append(dst, body...)
		dst = append(dst, "\r\n"...)
	}
	if !more {
		dst = append(dst, "0\r\n\r\n"...)
	}
	return dst
}

func appendStatusLine(dst []byte, status int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(status)...)
	return append(dst, "\r\n"...)
}

func statusText(status int) string {
	switch status {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 426:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 503:
		return "Service Unavailable"
	}
	return "Status " + strconv.Itoa(status)
}
