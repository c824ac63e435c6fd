package h1

import (
	"bytes"
	"encoding/binary"

	"github.com/asgo-dev/asgo/protocol/internal/headerlist"
)

// parseHead waits for a complete head, then parses it in one pass.
func (p *Parser) parseHead(data []byte) (int, Event, error) {
	end, err := p.scanHead(data)
	if err != nil {
		return p.fail(err)
	}
	if end == 0 {
		return 0, EventNone, nil
	}
	if err := p.parseRequest(data[:end]); err != nil {
		return p.fail(err)
	}
	p.startBody()
	return end, EventHead, nil
}

// scanHead searches data for the end of the head, resuming where the previous call
// stopped, and enforces the size limits as early as the bytes allow. It returns the
// head length, or 0 while the head is incomplete.
func (p *Parser) scanHead(data []byte) (int, *Error) {
	limit := p.cfg.MaxHeadBytes
	if len(data) > limit+1 {
		data = data[:limit+1] // enough to prove the head too large
	}
	for p.scan < len(data) {
		i := bytes.IndexByte(data[p.scan:], '\n')
		if i < 0 {
			p.scan = len(data)
			break
		}
		lf := p.scan + i
		p.scan = lf + 1
		end, err := p.headLine(data, lf)
		if end > 0 || err != nil {
			return end, err
		}
	}
	return 0, p.checkPartialHead(len(data))
}

// headLine accounts for the head line ending at data[lf] and returns the head length
// when this line is the empty line that ends the head.
func (p *Parser) headLine(data []byte, lf int) (int, *Error) {
	length := lf - p.lineStart
	if length > 0 && data[lf-1] == '\r' {
		length--
	}
	if length == 0 && p.lines == 0 {
		p.empties++
		if p.empties > maxLeadingEmptyLines {
			return 0, ErrTooManyEmptyLines
		}
		p.lineStart = p.scan
		return 0, nil
	}
	if length == 0 {
		if p.scan > p.cfg.MaxHeadBytes {
			return 0, ErrHeadTooLarge
		}
		return p.scan, nil
	}
	if p.lines == 0 {
		if length > p.cfg.MaxRequestLine {
			return 0, ErrRequestLineTooLong
		}
		p.headStart = p.lineStart
	}
	p.lines++
	if p.lines > p.cfg.MaxHeaders+1 {
		return 0, ErrTooManyHeaders
	}
	p.lineEnds = append(p.lineEnds, lf)
	p.lineStart = p.scan
	return 0, nil
}

// checkPartialHead refuses an incomplete head that can no longer fit the limits.
func (p *Parser) checkPartialHead(available int) *Error {
	if p.lines == 0 && available-p.lineStart > p.cfg.MaxRequestLine+1 {
		return ErrRequestLineTooLong
	}
	if available > p.cfg.MaxHeadBytes {
		return ErrHeadTooLarge
	}
	return nil
}

// nextLine returns the line starting at b[pos] without its LF and optional CR, and the
// position after it. The caller guarantees an LF follows pos. A CR left inside the
// line is a bare CR: every line validation refuses CR, and lineError names it.
func nextLine(b []byte, pos int) ([]byte, int) {
	lf := pos + bytes.IndexByte(b[pos:], '\n')
	return trimCR(b[pos:lf]), lf + 1
}

// lineError reports a line's validation error as ErrBareCR when the line holds a CR,
// so a bare CR gets its own error whatever check met it first.
func lineError(line []byte, err *Error) *Error {
	if err != nil && bytes.IndexByte(line, '\r') >= 0 {
		return ErrBareCR
	}
	return err
}

// trimCR removes one trailing CR.
func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1]
	}
	return line
}

// parseRequest parses a complete head: the request line and the fields, at the line
// ends scanHead recorded (leading empty lines are skipped by starting at headStart).
func (p *Parser) parseRequest(head []byte) *Error {
	p.req.reset()
	p.f = fieldState{}
	p.trailers = p.trailers[:0]
	start := p.headStart
	for i, lf := range p.lineEnds {
		line := trimCR(head[start:lf])
		start = lf + 1
		var err *Error
		if i == 0 {
			err = p.parseRequestLine(line)
		} else {
			err = p.parseHeaderLine(line)
		}
		if err != nil {
			return lineError(line, err)
		}
	}
	return p.applyFields()
}

// parseHeaderLine parses one field line of the head and records its meaning. The field
// count was bounded by scanHead. An accepted Content-Length (a list of identical values,
// or several identical fields) is kept as one field with one value, so the application
// reads the length the server frames the body with.
func (p *Parser) parseHeaderLine(line []byte) *Error {
	name, value, err := parseField(line)
	if err != nil {
		return err
	}
	if string(name) == "content-length" {
		return p.addContentLength(name, value)
	}
	p.req.Headers = append(p.req.Headers, field(name, value))
	return p.f.add(name, value)
}

// addContentLength records a Content-Length field and keeps only the first one in the
// headers, folded to its first value ("5, 5" is "5", RFC 9110 8.6): any other value was
// refused as a conflict.
func (p *Parser) addContentLength(name, value []byte) *Error {
	first := !p.f.clSeen
	if err := p.f.addContentLength(value); err != nil {
		return err
	}
	if first {
		value, _, _ = headerlist.Cut(value)
		p.req.Headers = append(p.req.Headers, field(name, value))
	}
	return nil
}

// parseField splits a field line into a lower-cased name (in place) and a value
// without surrounding whitespace, validating both.
func parseField(line []byte) ([]byte, []byte, *Error) {
	if line[0] == ' ' || line[0] == '\t' {
		return nil, nil, ErrObsFold
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, ErrInvalidHeaderName
	}
	name := line[:colon]
	if c := name[colon-1]; c == ' ' || c == '\t' {
		return nil, nil, ErrSpaceBeforeColon
	}
	if !lowerToken(name) {
		return nil, nil, ErrInvalidHeaderName
	}
	value := headerlist.TrimOWS(line[colon+1:])
	if !validFieldValue(value) {
		return nil, nil, ErrInvalidHeaderValue
	}
	return name, value, nil
}

// lowerToken lower-cases b in place and reports whether it was a token.
func lowerToken(b []byte) bool {
	for i, c := range b {
		l := tokenLower[c]
		if l == 0 {
			return false
		}
		b[i] = l
	}
	return true
}

// validFieldValue reports whether v holds only VCHAR, obs-text, SP and HTAB. It tests
// eight bytes at a time and looks at single bytes only in words that hold a byte below
// 0x20 or a DEL (bit tricks from "Bit Twiddling Hacks": hasless and haszero).
func validFieldValue(v []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(v) >= 8 {
		x := binary.LittleEndian.Uint64(v)
		del := x ^ 0x7f*ones
		if ((x-0x20*ones)&^x|(del-ones)&^del)&highs != 0 && !validFieldBytes(v[:8]) {
			return false
		}
		v = v[8:]
	}
	return validFieldBytes(v)
}

// validFieldBytes is validFieldValue one byte at a time.
func validFieldBytes(v []byte) bool {
	for _, c := range v {
		if !fieldValueChar[c] {
			return false
		}
	}
	return true
}

// tokenLower maps each tchar to its lower-case form and every other byte to 0.
var tokenLower = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		if isTokenChar(byte(c)) {
			t[c] = byte(c)
			if 'A' <= c && c <= 'Z' {
				t[c] = byte(c) + 'a' - 'A'
			}
		}
	}
	return t
}()

// fieldValueChar marks the bytes allowed in a field value.
var fieldValueChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 0x20 && c != 0x7f || c == '\t'
	}
	return t
}()

// targetChar marks the bytes allowed in a request-target: visible ASCII only (RFC 3986
// has no raw byte above 0x7f: it must be percent-encoded), no controls, no space and
// no '#' (a fragment is never part of a request-target, RFC 9112 3.2).
var targetChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c > 0x20 && c < 0x7f && c != '#'
	}
	return t
}()
