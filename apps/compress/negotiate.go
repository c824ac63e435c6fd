package compress

import (
	"fmt"
	"strings"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// accepts reports whether the request headers accept the coding name with q > 0.
func (c *Compressor) accepts(h asgi.Headers, name string) bool {
	return qFor(h, name) > 0
}

// qFor returns the q-value (thousandths) Accept-Encoding gives the coding name, -1
// without an Accept-Encoding field.
func qFor(h asgi.Headers, name string) int {
	q, star, seen := -1, -1, false
	for i := range h {
		if !asgi.EqualFold(h[i].Name, "accept-encoding") {
			continue
		}
		seen = true
		eachCoding(h[i].Value, func(coding []byte, weight int) {
			switch {
			case asgi.EqualFold(coding, name) || name == "gzip" && asgi.EqualFold(coding, "x-gzip"):
				if weight > q {
					q = weight
				}
			case len(coding) == 1 && coding[0] == '*':
				star = weight
			}
		})
	}
	if !seen {
		return -1
	}
	if q < 0 {
		q = star
	}
	return q
}

// negotiate returns the codec for the request headers' Accept-Encoding, or nil for
// identity: the highest q among the offered codecs the client accepts, ties to the
// server's order. It does not allocate.
func (c *Compressor) negotiate(h asgi.Headers) *codec {
	var best *codec
	bestQ := 0
	for _, cd := range c.codecs {
		q := qFor(h, cd.name)
		if q > bestQ {
			best, bestQ = cd, q
		}
	}
	return best
}

// eachCoding calls f with every coding of an Accept-Encoding value and its q-value in
// thousandths (1000 without q; malformed q-values count as 0).
func eachCoding(v []byte, f func(name []byte, q int)) {
	for len(v) > 0 {
		var elem []byte
		if i := indexByte(v, ','); i >= 0 {
			elem, v = v[:i], v[i+1:]
		} else {
			elem, v = v, nil
		}
		name, params := elem, []byte(nil)
		if i := indexByte(elem, ';'); i >= 0 {
			name, params = elem[:i], elem[i+1:]
		}
		name = trim(name)
		if len(name) == 0 {
			continue
		}
		f(name, qvalue(params))
	}
}

// qvalue returns the q parameter of params ("q=0.5;x=y") in thousandths; 1000 when
// absent, 0 when malformed.
func qvalue(params []byte) int {
	for len(params) > 0 {
		var p []byte
		if i := indexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		p = trim(p)
		if len(p) < 2 || p[0]|0x20 != 'q' || p[1] != '=' {
			continue
		}
		return parseQ(trim(p[2:]))
	}
	return 1000
}

// parseQ parses an RFC 9110 qvalue: "0", "0.xyz", "1", "1.000".
func parseQ(b []byte) int {
	if len(b) == 0 || len(b) > 5 || b[0] != '0' && b[0] != '1' {
		return 0
	}
	q := int(b[0]-'0') * 1000
	if len(b) > 1 {
		if b[1] != '.' {
			return 0
		}
		scale := 100
		for _, d := range b[2:] {
			if d < '0' || d > '9' {
				return 0
			}
			q += int(d-'0') * scale
			scale /= 10
		}
	}
	if q > 1000 {
		return 0
	}
	return q
}

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// pattern is one media-type pattern: "type/subtype" (exact), "type/*" (prefix "type/")
// or "type/*+suffix" (prefix "type/", suffix "+suffix").
type pattern struct{ prefix, suffix string }

func compile(list []string) ([]pattern, error) {
	out := make([]pattern, 0, len(list))
	for _, t := range list {
		t = strings.ToLower(strings.TrimSpace(t))
		slash := strings.IndexByte(t, '/')
		if slash <= 0 || slash == len(t)-1 || strings.ContainsAny(t, " ;,") {
			return nil, fmt.Errorf("compress: bad media type pattern %q (want type/subtype, type/* or type/*+suffix)", t)
		}
		sub := t[slash+1:]
		switch {
		case sub == "*":
			out = append(out, pattern{prefix: t[:slash+1]})
		case strings.HasPrefix(sub, "*+") && len(sub) > 2:
			out = append(out, pattern{prefix: t[:slash+1], suffix: sub[1:]})
		case strings.Contains(sub, "*"):
			return nil, fmt.Errorf("compress: bad media type pattern %q", t)
		default:
			out = append(out, pattern{prefix: t, suffix: "\x00exact"})
		}
	}
	return out, nil
}

// matches reports whether the Content-Type value ct (parameters allowed) matches one of
// ps, case-insensitively. It does not allocate.
func matches(ps []pattern, ct []byte) bool {
	if i := indexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = trim(ct)
	for _, p := range ps {
		if p.suffix == "\x00exact" {
			if asgi.EqualFold(ct, p.prefix) {
				return true
			}
			continue
		}
		if len(ct) <= len(p.prefix) || !asgi.EqualFold(ct[:len(p.prefix)], p.prefix) {
			continue
		}
		if p.suffix == "" || len(ct)-len(p.prefix) > len(p.suffix) && asgi.EqualFold(ct[len(ct)-len(p.suffix):], p.suffix) {
			return true
		}
	}
	return false
}
