package h1

import "bytes"

// parseChunked consumes chunk framing until it has body bytes to deliver, the message
// ends, or input runs out. off counts the framing consumed in this call.
func (p *Parser) parseChunked(data []byte) (int, Event, error) {
	off := 0
	for {
		var k int
		var err *Error
		switch p.state {
		case stateChunkSize:
			k, err = p.chunkSizeLine(data[off:])
		case stateChunkData:
			return p.chunkData(data, off)
		case stateChunkCRLF:
			k, err = p.chunkCRLF(data[off:])
		case stateTrailers:
			k, err = p.trailerSection(data[off:])
			if k > 0 && err == nil {
				p.endMessage()
				return off + k, EventEnd, nil
			}
		}
		if err != nil {
			return p.fail(err)
		}
		if k == 0 {
			return off, EventNone, nil
		}
		off += k
	}
}

// chunkData delivers the chunk bytes available after off.
func (p *Parser) chunkData(data []byte, off int) (int, Event, error) {
	avail := data[off:]
	if len(avail) == 0 {
		return off, EventNone, nil
	}
	n := len(avail)
	if int64(n) > p.remaining {
		n = int(p.remaining)
	}
	p.remaining -= int64(n)
	p.body = avail[:n]
	p.bodySeen = true
	if p.remaining == 0 {
		p.setState(stateChunkCRLF)
	}
	return off + n, EventBody, nil
}

// chunkCRLF consumes the CRLF that must follow chunk data.
func (p *Parser) chunkCRLF(b []byte) (int, *Error) {
	switch {
	case len(b) >= 2 && b[0] == '\r' && b[1] == '\n':
		p.setState(stateChunkSize)
		return 2, nil
	case len(b) == 0, len(b) == 1 && b[0] == '\r':
		return 0, nil
	}
	return 0, ErrMissingChunkCRLF
}

// chunkSizeLine consumes one "chunk-size [chunk-ext] CRLF" line, resuming its search
// for LF where the previous call stopped.
func (p *Parser) chunkSizeLine(b []byte) (int, *Error) {
	if len(b) > maxChunkLineBytes+2 {
		b = b[:maxChunkLineBytes+2]
	}
	i := bytes.IndexByte(b[p.scan:], '\n')
	if i < 0 {
		p.scan = len(b)
		if len(b) > maxChunkLineBytes+1 {
			return 0, ErrChunkLineTooLong
		}
		return 0, nil
	}
	lf := p.scan + i
	p.scan = 0
	if lf == 0 || b[lf-1] != '\r' {
		return 0, ErrBareLFInChunked
	}
	size, err := parseChunkLine(b[:lf-1])
	if err != nil {
		return 0, err
	}
	if err := p.chargeOverhead(int64(lf+1), size); err != nil {
		return 0, err
	}
	p.remaining = size
	if size == 0 {
		p.setState(stateTrailers)
	} else {
		p.setState(stateChunkData)
	}
	return lf + 1, nil
}

// chargeOverhead keeps framing bytes (the size line and the CRLF after the data)
// proportionate to chunk data, as net/http does: 16 bytes plus twice the data size
// per chunk are free.
func (p *Parser) chargeOverhead(lineLen, size int64) *Error {
	p.excess += lineLen + 2
	p.excess -= 16 + 2*min(size, maxChunkOverhead)
	p.excess = max(p.excess, 0)
	if p.excess > maxChunkOverhead {
		return ErrChunkOverhead
	}
	return nil
}

// parseChunkLine parses "1*HEXDIG chunk-ext" (without CRLF) into the chunk size.
func parseChunkLine(line []byte) (int64, *Error) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		v := hexValue(line[i])
		if v < 0 {
			break
		}
		if n >= 1<<59 {
			return 0, ErrChunkSizeOverflow
		}
		n = n<<4 | int64(v)
	}
	if i == 0 {
		return 0, ErrInvalidChunkSize
	}
	if !validChunkExt(line[i:]) {
		return 0, ErrInvalidChunkExtension
	}
	return n, nil
}

// validChunkExt checks *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ).
func validChunkExt(ext []byte) bool {
	for len(ext) > 0 {
		ext = skipBWS(ext)
		if len(ext) == 0 || ext[0] != ';' {
			return false
		}
		ext = skipBWS(ext[1:])
		n := tokenPrefix(ext)
		if n == 0 {
			return false
		}
		ext = ext[n:]
		if rest := skipBWS(ext); len(rest) > 0 && rest[0] == '=' {
			var ok bool
			if ext, ok = extValue(skipBWS(rest[1:])); !ok {
				return false
			}
		}
	}
	return true
}

// extValue consumes a token or quoted-string and returns what follows it.
func extValue(b []byte) ([]byte, bool) {
	if len(b) > 0 && b[0] == '"' {
		return quotedString(b)
	}
	n := tokenPrefix(b)
	return b[n:], n > 0
}

// quotedString consumes a quoted-string (RFC 9110 5.6.4) starting at b[0] == '"'.
func quotedString(b []byte) ([]byte, bool) {
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[i+1:], true
		case c == '\\':
			i++
			if i >= len(b) || !fieldValueChar[b[i]] {
				return nil, false
			}
		case !fieldValueChar[c]:
			return nil, false
		}
	}
	return nil, false
}

// tokenPrefix returns the length of the token at the start of b.
func tokenPrefix(b []byte) int {
	for i, c := range b {
		if tokenLower[c] == 0 {
			return i
		}
	}
	return len(b)
}

func skipBWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// trailerSection consumes the trailer section and its final CRLF once complete (every
// line CRLF-terminated) and returns its length, or 0 while incomplete.
func (p *Parser) trailerSection(b []byte) (int, *Error) {
	end, err := p.scanTrailers(b)
	if end == 0 || err != nil {
		return 0, err
	}
	if err := p.parseTrailers(b[:end]); err != nil {
		return 0, err
	}
	return end, nil
}

// scanTrailers finds the empty line ending the trailer section, resuming where the
// previous call stopped.
func (p *Parser) scanTrailers(b []byte) (int, *Error) {
	limit := p.cfg.MaxHeadBytes
	if len(b) > limit+1 {
		b = b[:limit+1]
	}
	for p.scan < len(b) {
		i := bytes.IndexByte(b[p.scan:], '\n')
		if i < 0 {
			p.scan = len(b)
			break
		}
		lf := p.scan + i
		p.scan = lf + 1
		if lf == p.lineStart || b[lf-1] != '\r' {
			return 0, ErrBareLFInChunked
		}
		if lf-p.lineStart == 1 {
			if p.scan > limit {
				return 0, ErrTrailersTooLarge
			}
			return p.scan, nil
		}
		p.lines++
		if p.lines > p.cfg.MaxHeaders {
			return 0, ErrTooManyTrailers
		}
		p.lineStart = p.scan
	}
	if len(b) > limit {
		return 0, ErrTrailersTooLarge
	}
	return 0, nil
}

// parseTrailers parses the fields of a complete trailer section into p.trailers.
func (p *Parser) parseTrailers(section []byte) *Error {
	pos := 0
	for {
		line, next := nextLine(section, pos)
		if len(line) == 0 {
			return nil
		}
		name, value, err := parseField(line)
		if err != nil {
			return lineError(line, err)
		}
		p.trailers = append(p.trailers, field(name, value))
		pos = next
	}
}
