package h1

import (
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/internal/headerlist"
)

// fieldState collects what the framing and connection fields of one head say.
type fieldState struct {
	contentLength    int64 // valid when clSeen
	clSeen           bool
	teSeen           bool // Transfer-Encoding present
	teChunked        bool // the last coding so far is chunked
	teChunkedNotLast bool // a coding followed chunked
	teUnknown        bool // a coding other than chunked
	hosts            int
	host             []byte
	connClose        bool
	connKeepAlive    bool
	connUpgrade      bool
	expect100        bool
	upgrade          []byte
}

// add records the meaning of one header field (name already lower-cased).
func (f *fieldState) add(name, value []byte) *Error {
	switch string(name) {
	case "content-length":
		return f.addContentLength(value)
	case "transfer-encoding":
		f.addTransferEncoding(value)
	case "host":
		f.hosts++
		if f.hosts > 1 {
			return ErrMultipleHost
		}
		if !validHost(value) {
			return ErrInvalidHost
		}
		f.host = value
	case "connection":
		f.addConnection(value)
	case "expect":
		f.expect100 = f.expect100 || asgi.EqualFold(value, "100-continue")
	case "upgrade":
		if f.upgrade == nil {
			f.upgrade = value
		}
	}
	return nil
}

// addContentLength parses a Content-Length value, which may be a list of identical
// values; values differing from earlier ones are a conflict.
func (f *fieldState) addContentLength(value []byte) *Error {
	for {
		elem, rest, more := headerlist.Cut(value)
		n, ok := parseDecimal(elem)
		if !ok {
			return ErrInvalidContentLength
		}
		if f.clSeen && n != f.contentLength {
			return ErrConflictingContentLength
		}
		f.contentLength, f.clSeen = n, true
		if !more {
			return nil
		}
		value = rest
	}
}

// addTransferEncoding records the codings of one Transfer-Encoding field.
func (f *fieldState) addTransferEncoding(value []byte) {
	f.teSeen = true
	for len(value) > 0 {
		var elem []byte
		elem, value, _ = headerlist.Cut(value)
		if len(elem) == 0 {
			continue
		}
		if f.teChunked {
			f.teChunkedNotLast = true
		}
		f.teChunked = asgi.EqualFold(elem, "chunked")
		if !f.teChunked {
			f.teUnknown = true
		}
	}
}

// addConnection records the connection options we act on.
func (f *fieldState) addConnection(value []byte) {
	for len(value) > 0 {
		var opt []byte
		opt, value, _ = headerlist.Cut(value)
		switch {
		case asgi.EqualFold(opt, "close"):
			f.connClose = true
		case asgi.EqualFold(opt, "keep-alive"):
			f.connKeepAlive = true
		case asgi.EqualFold(opt, "upgrade"):
			f.connUpgrade = true
		}
	}
}

// applyFields checks the head as a whole and fills the derived Request fields.
func (p *Parser) applyFields() *Error {
	f, r := &p.f, &p.req
	if err := f.framing(r.ProtoMinor); err != nil {
		return err
	}
	if r.ProtoMinor == 1 && f.hosts == 0 {
		return ErrMissingHost
	}
	if r.Host == nil {
		r.Host = f.host
	} else if !r.IsConnect() {
		p.useTargetAuthority()
	}
	r.Chunked = f.teSeen
	if f.clSeen {
		r.ContentLength = f.contentLength
	}
	if r.ProtoMinor == 1 {
		r.KeepAlive = !f.connClose
		r.Expect100 = f.expect100
		if f.connUpgrade {
			r.Upgrade = f.upgrade
		}
	} else {
		r.KeepAlive = f.connKeepAlive && !f.connClose
	}
	return nil
}

// useTargetAuthority makes the Host field of an absolute-form request carry the
// target's authority (RFC 9112 3.2.2: the server ignores the Host field and uses the
// target's host), so applications that read the host from the headers see the host the
// request was for. An HTTP/1.0 request without Host gets one.
func (p *Parser) useTargetAuthority() {
	r := &p.req
	for i := range r.Headers {
		if string(r.Headers[i].Name) == "host" {
			r.Headers[i].Value = r.Host
			return
		}
	}
	r.Headers = append(r.Headers, field(hostName, r.Host))
}

var hostName = []byte("host")

// framing enforces RFC 9112 6.1-6.3 on Transfer-Encoding and Content-Length.
func (f *fieldState) framing(minor int) *Error {
	switch {
	case !f.teSeen:
		return nil
	case f.clSeen:
		return ErrContentLengthWithTE
	case minor == 0:
		return ErrTransferEncodingHTTP10
	case f.teChunkedNotLast:
		return ErrChunkedNotFinal
	case f.teUnknown:
		return ErrUnsupportedTransferEncoding
	case !f.teChunked:
		return ErrChunkedNotFinal
	}
	return nil
}

// startBody chooses the body state after a head.
func (p *Parser) startBody() {
	p.resetScan()
	switch {
	case p.req.Chunked:
		p.setState(stateChunkSize)
		p.excess = 0
	case p.req.ContentLength > 0:
		p.setState(stateBody)
		p.remaining = p.req.ContentLength
	default:
		p.setState(stateEnd)
	}
}

// parseDecimal parses 1*DIGIT into a non-negative int64.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) || n > (1<<63-1-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
