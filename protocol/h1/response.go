package h1

import (
	"strconv"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/internal/headerlist"
)

// Continue100 is the interim response the loop writes when the app first asks for the
// body of a request that expects 100-continue. Do not modify it.
var Continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// earlyHintsLine is the status line of a 103 Early Hints response (RFC 8297).
const earlyHintsLine = "HTTP/1.1 103 Early Hints\r\n"

// AppendEarlyHints appends a 103 Early Hints informational response (RFC 8297) with one
// Link field per entry of links to dst, to be written before the final response of an
// HTTP/1.1 request (never to an HTTP/1.0 client, which cannot take an informational
// response). Links holding CR, LF or NUL are skipped (asgi.HTTPResponseOrder has
// already refused them). links are not retained. Safe for concurrent use.
func AppendEarlyHints(dst []byte, links [][]byte) []byte {
	dst = append(dst, earlyHintsLine...)
	for _, l := range links {
		if safeField(linkName, l) {
			dst = appendField(dst, linkName, l)
		}
	}
	return append(dst, "\r\n"...)
}

var linkName = []byte("Link")

// framing is how a response body is delimited on the wire.
type framing uint8

const (
	framingNone    framing = iota // no body bytes (HEAD, 1xx, 204, 304)
	framingLength                 // Content-Length
	framingChunked                // Transfer-Encoding: chunked
	framingClose                  // delimited by closing the connection (HTTP/1.0)
)

// Response frames one response on a connection, without I/O. Begin records the
// response; AppendBody writes the head with the first body, so a response whose first
// body is also its last gets a Content-Length. The zero value is ready for Begin, and a
// Response may be reused for the next response after Done (its buffer is kept).
//
// A Response is used on the loop goroutine only, or under the connection's lock; it is
// not safe for concurrent use.
type Response struct {
	// Owned by the loop goroutine (or guarded by the connection's lock):
	head        []byte // status line and app fields, serialised by Begin
	begun       bool
	headWritten bool
	bodyDone    bool
	done        bool
	protoMinor  int
	status      int
	isHead      bool
	keepAlive   bool
	trailers    bool // the app announced trailers
	hasLength   bool // the app set Content-Length
	hasDate     bool
	hasServer   bool
	framing     framing
	length      int64 // declared or computed Content-Length
	written     int64 // body bytes written under framingLength
	dateSec     int64 // the Unix second the Date field states (SetNow); 0: the clock at the head
}

// Begin records a response for a request with the given protocol minor version, HEAD
// method and keep-alive permission. headers must already have passed
// asgi.ValidateHeaders; Begin still refuses names that are not tokens and values holding
// CR, LF or NUL. It copies what it needs: headers are not retained. Nothing is written
// until AppendBody.
//
// The app's Connection field is not copied: "close" in it closes the connection, and
// the server writes its own Connection field. A Transfer-Encoding of "chunked" is
// dropped (the server owns framing); any other is refused. Content-Length is kept as
// the declared length (dropped for 1xx and 204).
func (r *Response) Begin(protoMinor int, isHead, keepAlive bool, status int, headers asgi.Headers, trailers bool) error {
	if status < 100 || status > 999 {
		return ErrResponseStatus
	}
	*r = Response{head: r.head[:0], begun: true, protoMinor: protoMinor, status: status,
		isHead: isHead, keepAlive: keepAlive, trailers: trailers}
	r.head = appendStatusLine(r.head, protoMinor, status)
	for i := range headers {
		if err := r.addHeader(headers[i].Name, headers[i].Value); err != nil {
			r.begun = false
			return err
		}
	}
	return nil
}

// addHeader copies one app field into the head, or records what it means for framing.
func (r *Response) addHeader(name, value []byte) error {
	if !safeField(name, value) {
		return ErrResponseHeader
	}
	switch len(name) { // the length first: most names are none of these
	case len("content-length"):
		if asgi.EqualFold(name, "content-length") {
			return r.addContentLength(value)
		}
	case len("transfer-encoding"):
		if asgi.EqualFold(name, "transfer-encoding") {
			if !asgi.EqualFold(headerlist.TrimOWS(value), "chunked") {
				return ErrResponseTransferEncoding
			}
			return nil
		}
	case len("connection"):
		if asgi.EqualFold(name, "connection") {
			if headerlist.Contains(value, "close") {
				r.keepAlive = false
			}
			return nil
		}
	case len("date"):
		r.hasDate = r.hasDate || asgi.EqualFold(name, "date")
	case len("server"):
		r.hasServer = r.hasServer || asgi.EqualFold(name, "server")
	}
	r.head = appendField(r.head, name, value)
	return nil
}

// addContentLength records the app's Content-Length; repeats must agree.
func (r *Response) addContentLength(value []byte) error {
	n, ok := parseDecimal(headerlist.TrimOWS(value))
	if !ok || r.hasLength && n != r.length {
		return ErrResponseContentLength
	}
	r.hasLength, r.length = true, n
	return nil
}

// SetNow sets the time the Date field states, for a caller that has just read the
// clock (a server answering requests in a batch reads it once per batch); without it,
// the head reads the clock when it is written. Call it after Begin, which clears it.
func (r *Response) SetNow(now time.Time) { r.dateSec = now.Unix() }

// UseBuffer makes the Response serialise its head into buf's storage, e.g. a buffer
// that TakeBuffer returned from an earlier Response, so that a new Response does not
// allocate its own. Call it before Begin; buf is owned by the Response afterwards.
func (r *Response) UseBuffer(buf []byte) { r.head = buf[:0] }

// TakeBuffer returns the Response's head buffer, emptied, and forgets it: the caller
// owns it (to hand to another Response with UseBuffer). Call it only once the Response
// is no longer used; a later Begin allocates a new buffer.
func (r *Response) TakeBuffer() []byte {
	buf := r.head[:0]
	r.head = nil
	return buf
}

// SetClose makes the connection close after this response. It has no effect once the
// head was written.
func (r *Response) SetClose() {
	if !r.headWritten {
		r.keepAlive = false
	}
}

// KeepAlive reports whether the connection stays open after this response completes.
// It may turn false when the first body is appended (close-delimited HTTP/1.0).
func (r *Response) KeepAlive() bool { return r.keepAlive }

// HeadWritten reports whether AppendBody has written the head.
func (r *Response) HeadWritten() bool { return r.headWritten }

// Done reports whether the last body, and the trailers when announced, were appended.
func (r *Response) Done() bool { return r.done }

// WireComplete reports whether the client has the whole response once what was
// appended is written: after Done, or as soon as the framing admits no more bytes (the
// declared Content-Length is reached, or the response has no body: HEAD, 1xx, 204,
// 304), even if the app has not sent its last body yet. A chunked or close-delimited
// body ends only with the last body.
func (r *Response) WireComplete() bool {
	return r.done || r.headWritten &&
		(r.framing == framingNone || r.framing == framingLength && r.written == r.length)
}

// AppendBody appends the head (on the first call) and body, framed, to dst. more=false
// marks the last body. Bodies of HEAD, 1xx, 204 and 304 responses are dropped. With a
// declared Content-Length, more bytes than declared is ErrBodyTooLong (the extra body is
// not appended) and a last body that ends short is ErrBodyTooShort; after either the
// loop aborts the connection, flushing what dst holds first if it wants.
// body is not retained.
func (r *Response) AppendBody(dst, body []byte, more bool) ([]byte, error) {
	switch {
	case !r.begun:
		return dst, ErrResponseNotBegun
	case r.bodyDone:
		return dst, ErrResponseComplete
	}
	if !r.headWritten {
		r.chooseFraming(len(body), more)
		dst = r.appendHead(dst)
	}
	if !more {
		r.bodyDone = true
		r.done = !r.trailers
	}
	switch r.framing {
	case framingLength:
		return r.appendLength(dst, body, more)
	case framingChunked:
		return r.appendChunk(dst, body, more), nil
	case framingClose:
		return append(dst, body...), nil
	}
	return dst, nil
}

// AppendBodyHead is AppendBody(dst, body, more) for a body of n bytes that the caller
// writes to the connection itself, right after dst (with sendfile, or by reference from
// the app's buffer): it appends what goes before the body bytes (the head on the first
// call, a chunk header) and reports whether the n bytes go out at all (not for HEAD,
// 1xx, 204 and 304 responses). AppendBodyTail appends what follows them. Errors are
// AppendBody's; after one, no body byte is to be written.
func (r *Response) AppendBodyHead(dst []byte, n int64, more bool) ([]byte, bool, error) {
	switch {
	case !r.begun:
		return dst, false, ErrResponseNotBegun
	case r.bodyDone:
		return dst, false, ErrResponseComplete
	}
	if !r.headWritten {
		r.chooseFraming(int(n), more)
		dst = r.appendHead(dst)
	}
	if !more {
		r.bodyDone = true
		r.done = !r.trailers
	}
	switch r.framing {
	case framingLength:
		if n > r.length-r.written {
			return dst, false, ErrBodyTooLong
		}
		if r.written += n; !more && r.written < r.length {
			return dst, false, ErrBodyTooShort
		}
	case framingChunked:
		if n > 0 {
			dst = strconv.AppendUint(dst, uint64(n), 16)
			dst = append(dst, "\r\n"...)
		}
	case framingClose:
	default:
		return dst, false, nil
	}
	return dst, n > 0, nil
}

// AppendBodyTail appends what follows the n body bytes of AppendBodyHead: with chunked
// framing the chunk's end and, for the last body, the last-chunk.
func (r *Response) AppendBodyTail(dst []byte, n int64, more bool) []byte {
	if r.framing != framingChunked {
		return dst
	}
	if n > 0 {
		dst = append(dst, "\r\n"...)
	}
	if more {
		return dst
	}
	dst = append(dst, "0\r\n"...)
	if !r.trailers {
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// chooseFraming decides the body framing from the first body.
func (r *Response) chooseFraming(n int, more bool) {
	switch {
	case r.status < 200 || r.status == 204 || r.status == 304:
		r.framing = framingNone
		r.hasLength = r.hasLength && r.status == 304
	case r.isHead:
		r.framing = framingNone
		if !r.hasLength && !more && n > 0 {
			r.hasLength, r.length = true, int64(n)
		}
	case r.hasLength:
		r.framing = framingLength
	case !more && !(r.trailers && r.protoMinor == 1):
		r.framing = framingLength
		r.hasLength, r.length = true, int64(n)
	case r.protoMinor == 1:
		r.framing = framingChunked
	default:
		r.framing = framingClose
		r.keepAlive = false
	}
}

// appendHead appends the status line, app fields and server fields.
func (r *Response) appendHead(dst []byte) []byte {
	r.headWritten = true
	dst = append(dst, r.head...)
	if r.hasLength {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, r.length, 10)
		dst = append(dst, "\r\n"...)
	}
	if r.framing == framingChunked {
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	}
	if !r.hasDate {
		dst = append(dst, "Date: "...)
		if r.dateSec == 0 {
			dst = appendDate(dst)
		} else {
			dst = appendDateAt(dst, time.Unix(r.dateSec, 0))
		}
		dst = append(dst, "\r\n"...)
	}
	if !r.hasServer {
		dst = append(dst, "Server: asgo\r\n"...)
	}
	switch {
	case !r.keepAlive:
		dst = append(dst, "Connection: close\r\n"...)
	case r.protoMinor == 0:
		dst = append(dst, "Connection: keep-alive\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// appendLength appends body under a Content-Length, never past it.
func (r *Response) appendLength(dst, body []byte, more bool) ([]byte, error) {
	if int64(len(body)) > r.length-r.written {
		return dst, ErrBodyTooLong
	}
	r.written += int64(len(body))
	dst = append(dst, body...)
	if !more && r.written < r.length {
		return dst, ErrBodyTooShort
	}
	return dst, nil
}

// appendChunk appends body as one chunk (none if empty: an empty chunk would end the
// body) and, for the last body, the last-chunk (and the final CRLF unless trailers are
// announced).
func (r *Response) appendChunk(dst, body []byte, more bool) []byte {
	if len(body) > 0 {
		dst = strconv.AppendUint(dst, uint64(len(body)), 16)
		dst = append(dst, "\r\n"...)
		dst = append(dst, body...)
		dst = append(dst, "\r\n"...)
	}
	if more {
		return dst
	}
	dst = append(dst, "0\r\n"...)
	if !r.trailers {
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// AppendTrailers ends a response that announced trailers, after its last body. With
// chunked framing the fields are written; otherwise they are dropped (HTTP/1.1 has no
// trailers without chunked). trailers is not retained.
func (r *Response) AppendTrailers(dst []byte, trailers asgi.Headers) ([]byte, error) {
	dst, err := r.AppendTrailersPart(dst, trailers)
	if err != nil {
		return dst, err
	}
	r.done = true
	if r.framing != framingChunked {
		return dst, nil
	}
	return append(dst, "\r\n"...), nil
}

// AppendTrailersPart appends the fields of a trailers message that has more trailers
// after it (ASGI more_trailers); AppendTrailers appends the last one and ends the
// response. trailers is not retained.
func (r *Response) AppendTrailersPart(dst []byte, trailers asgi.Headers) ([]byte, error) {
	switch {
	case !r.begun:
		return dst, ErrResponseNotBegun
	case r.done:
		return dst, ErrResponseComplete
	case !r.trailers || !r.bodyDone:
		return dst, ErrTrailersNotExpected
	}
	for i := range trailers {
		if !safeField(trailers[i].Name, trailers[i].Value) {
			return dst, ErrResponseHeader
		}
	}
	if r.framing != framingChunked {
		return dst, nil
	}
	for i := range trailers {
		dst = appendField(dst, trailers[i].Name, trailers[i].Value)
	}
	return dst, nil
}

// AppendError appends a complete error response with a text/plain body holding reason
// (StatusText(status) when reason is empty), Content-Length, Connection: close, Date and
// Server. Safe for concurrent use.
func AppendError(dst []byte, status int, reason string) []byte {
	if status < 100 || status > 999 {
		status = 500
	}
	if reason == "" {
		reason = StatusText(status)
	}
	dst = appendStatusLine(dst, 1, status)
	dst = append(dst, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(reason)), 10)
	dst = append(dst, "\r\nConnection: close\r\nDate: "...)
	dst = appendDate(dst)
	dst = append(dst, "\r\nServer: asgo\r\n\r\n"...)
	return append(dst, reason...)
}

// appendField appends "name: value\r\n".
func appendField(dst, name, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// safeField is the defence-in-depth check against response splitting: a token name
// and a value without CR, LF or NUL.
func safeField(name, value []byte) bool {
	if !validToken(name) {
		return false
	}
	if asgi.ValidHeaderValue(value) {
		return true // what the app's sends were checked for already, word by word
	}
	for _, c := range value {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
