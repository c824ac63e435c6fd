package h1

import (
	"bytes"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

var slashPath = []byte("/")

// parseRequestLine parses "method SP request-target SP HTTP-version".
func (p *Parser) parseRequestLine(line []byte) *Error {
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 == sp1 {
		return ErrInvalidRequestLine
	}
	method, target, version := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if !validToken(method) {
		return ErrInvalidMethod
	}
	minor, err := parseVersion(version)
	if err != nil {
		return err
	}
	p.req.Method, p.req.Target, p.req.ProtoMinor = method, target, minor
	return p.parseTarget(target)
}

// parseVersion accepts HTTP/1.0 and HTTP/1.1, and serves a higher minor version
// (HTTP/1.2) as HTTP/1.1, the highest we conform to (RFC 9110 6.2: a recipient acts
// on the minor version it supports). Another major version is 505. The name is
// case-sensitive (RFC 9112 2.3): "http/1.1" is 400.
func parseVersion(v []byte) (int, *Error) {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || !isDigit(v[5]) || !isDigit(v[7]) {
		return 0, ErrInvalidVersion
	}
	if v[5] != '1' {
		return 0, ErrVersionNotSupported
	}
	return min(int(v[7]-'0'), 1), nil
}

// parseTarget validates the request-target and splits it by form (RFC 9112 3.2).
func (p *Parser) parseTarget(t []byte) *Error {
	if len(t) == 0 {
		return ErrInvalidTarget
	}
	for _, c := range t {
		if !targetChar[c] {
			return ErrInvalidTarget
		}
	}
	switch {
	case t[0] == '/':
		p.req.Path, p.req.Query = splitQuery(t)
		return nil
	case len(t) == 1 && t[0] == '*':
		if string(p.req.Method) != "OPTIONS" {
			return ErrInvalidTarget
		}
		p.req.Path = t
		return nil
	case p.req.IsConnect():
		if !validHost(t) || bytes.IndexByte(t, ':') < 0 {
			return ErrInvalidTarget
		}
		p.req.Host = t
		return nil
	default:
		return p.parseAbsoluteTarget(t)
	}
}

// parseAbsoluteTarget handles "http://authority/path?query".
func (p *Parser) parseAbsoluteTarget(t []byte) *Error {
	i := bytes.Index(t, []byte("://"))
	if i < 0 || !(asgi.EqualFold(t[:i], "http") || asgi.EqualFold(t[:i], "https")) {
		return ErrInvalidTarget
	}
	rest := t[i+3:]
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if len(authority) == 0 || !validHost(authority) {
		return ErrInvalidTarget
	}
	p.req.Host = authority
	p.req.Path, p.req.Query = splitQuery(rest[end:])
	if len(p.req.Path) == 0 {
		p.req.Path = slashPath
	}
	return nil
}

// splitQuery splits a target at the first '?'; the query is nil when there is none.
func splitQuery(t []byte) (path, query []byte) {
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		return t[:q], t[q+1:]
	}
	return t, nil
}

// validToken reports whether b is a non-empty RFC 9110 token.
func validToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if tokenLower[c] == 0 {
			return false
		}
	}
	return true
}

// validHost reports whether b holds only authority characters (reg-name, IP-literal,
// port): unreserved, sub-delims, ':', '[', ']' and '%'. No userinfo, no path.
func validHost(b []byte) bool {
	for _, c := range b {
		if !hostChar[c] {
			return false
		}
	}
	return true
}

var hostChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=:[]%" {
		t[c] = true
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isTokenChar(c byte) bool { return asgi.IsTokenChar(c) }

func field(name, value []byte) asgi.HeaderField { return asgi.HeaderField{Name: name, Value: value} }
