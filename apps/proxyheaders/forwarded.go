package proxyheaders

import (
	"net/netip"
	"strings"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// element is one forwarded-element of an RFC 7239 Forwarded field.
type element struct {
	forIP   netip.Addr // valid when for= is an IP address
	client  *asgi.Addr // nil when for= is absent, obfuscated or "unknown"
	proto   string
	host    []byte
	hasFor  bool
	invalid bool
}

// chooseElement parses v and returns the element that describes the client: walking
// from the right, the first whose for= is not a trusted address (the left-most when all
// are trusted). ok is false when v does not parse.
func (a *App) chooseElement(v string) (element, bool) {
	elems, ok := parseForwarded(v)
	if !ok || len(elems) == 0 {
		return element{}, false
	}
	for i := len(elems) - 1; i > 0; i-- {
		if !elems[i].forIP.IsValid() || !a.trust.contains(elems[i].forIP) {
			return elems[i], true
		}
	}
	return elems[0], true
}

// parseForwarded splits a Forwarded field value (RFC 7239 section 4):
//
//	Forwarded = 1#forwarded-element
//	forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
//	forwarded-pair = token "=" value ; value = token / quoted-string
//
// It is a byte loop; it returns false for anything that breaks this syntax.
func parseForwarded(v string) ([]element, bool) {
	var elems []element
	cur := element{}
	for {
		v = strings.TrimLeft(v, " \t")
		if v == "" {
			return append(elems, cur), true
		}
		switch v[0] {
		case ',':
			elems, cur, v = append(elems, cur), element{}, v[1:]
			continue
		case ';':
			v = v[1:]
			continue
		}
		name, value, rest, ok := nextPair(v)
		if !ok {
			return nil, false
		}
		cur.set(strings.ToLower(name), value)
		if cur.invalid {
			return nil, false
		}
		v = rest
	}
}

// nextPair reads token "=" (token / quoted-string) from the front of v.
func nextPair(v string) (name, value, rest string, ok bool) {
	i := 0
	for i < len(v) && isTokenChar(v[i]) {
		i++
	}
	if i == 0 || i == len(v) || v[i] != '=' {
		return "", "", "", false
	}
	name, v = v[:i], v[i+1:]
	if v != "" && v[0] == '"' {
		var b strings.Builder
		for j := 1; j < len(v); j++ {
			switch c := v[j]; {
			case c == '"':
				return name, b.String(), v[j+1:], true
			case c == '\\' && j+1 < len(v):
				j++
				b.WriteByte(v[j])
			case c < 0x20 && c != '\t' || c == 0x7f:
				return "", "", "", false
			default:
				b.WriteByte(c)
			}
		}
		return "", "", "", false // unterminated
	}
	j := 0
	for j < len(v) && isTokenChar(v[j]) {
		j++
	}
	if j == 0 {
		return "", "", "", false
	}
	return name, v[:j], v[j:], true
}

// set records one pair; a repeated parameter makes the element invalid (RFC 7239 4).
func (e *element) set(name, value string) {
	switch name {
	case "for":
		if e.hasFor {
			e.invalid = true
			return
		}
		e.hasFor = true
		if ip, port, ok := parseNode(value); ok {
			e.forIP, e.client = ip, &asgi.Addr{Host: ip.String(), Port: port}
		}
	case "proto":
		if e.proto != "" {
			e.invalid = true
		}
		e.proto = value
	case "host":
		if e.host != nil || !validHost(value) {
			e.invalid = true
			return
		}
		e.host = []byte(value)
	}
}

// validHost accepts the characters of an RFC 3986 authority (host and port), no
// userinfo.
func validHost(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~!$&'()*+,;=:[]%", c) >= 0) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
