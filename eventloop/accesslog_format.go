package eventloop

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Access-log formats: Config.AccessLogFormat is parsed once, by New, into a list of
// segments; each line is then appended segment by segment to a reused buffer, with no
// parsing and no allocation of its own.

// Presets of Config.AccessLogFormat.
const (
	AccessLogCommon   = `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s`
	AccessLogCombined = AccessLogCommon + ` "%(f)s" "%(a)s"`
)

type segKind uint8

const (
	segLiteral    segKind = iota
	segUvicorn            // the default line: host:port - "request" result
	segHost               // h
	segDash               // l, u
	segTime               // t
	segTimeISO            // the json preset's time
	segRequest            // r
	segMethod             // m
	segPath               // U
	segQuery              // q
	segProto              // H
	segStatus             // s
	segBytes              // B
	segBytesDash          // b
	segSeconds            // T
	segMicros             // D
	segMillis             // M
	segDecimal            // L
	segReqHeader          // {name}i, f, a
	segRespHeader         // {name}o: not recorded, always '-'
)

type accessSeg struct {
	kind segKind
	lit  string // the literal, or the lower-cased header name
}

// accessFormat is a parsed Config.AccessLogFormat.
type accessFormat struct {
	segs []accessSeg
	json bool // values are JSON-escaped (the json preset)
}

// accessEntry is what one access-log line is made of.
type accessEntry struct {
	client   *asgi.Addr
	method   string
	path     []byte // raw path as received, without the query
	pathStr  string // the same for WebSockets (one of path, pathStr is set)
	query    []byte
	proto    string // "1.0", "1.1" or "2"
	headers  asgi.Headers
	status   int
	sent     int64
	cut      bool // the response did not go out whole
	ws       bool
	started  time.Time
	finished time.Time
}

// CheckAccessLogFormat reports whether format is a valid Config.AccessLogFormat.
func CheckAccessLogFormat(format string) error {
	_, err := parseAccessFormat(format)
	return err
}

func parseAccessFormat(format string) (*accessFormat, error) {
	switch format {
	case "":
		return &accessFormat{segs: []accessSeg{{kind: segUvicorn}}}, nil
	case "common":
		format = AccessLogCommon
	case "combined":
		format = AccessLogCombined
	case "json":
		return jsonFormat(), nil
	}
	f := &accessFormat{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.segs = append(f.segs, accessSeg{kind: segLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		if strings.HasPrefix(format[i:], "%%") {
			lit.WriteByte('%')
			i += 2
			continue
		}
		if !strings.HasPrefix(format[i:], "%(") {
			return nil, fmt.Errorf("access log format: lone %% at offset %d (write %%%% for a percent sign)", i)
		}
		end := strings.Index(format[i:], ")s")
		if end < 0 {
			return nil, fmt.Errorf("access log format: %q at offset %d is not closed by )s", "%(", i)
		}
		atom := format[i+2 : i+end]
		i += end + 2
		seg, err := parseAtom(atom)
		if err != nil {
			return nil, err
		}
		if seg.kind == segLiteral {
			lit.WriteString(seg.lit)
			continue
		}
		flush()
		f.segs = append(f.segs, seg)
	}
	flush()
	return f, nil
}

func parseAtom(atom string) (accessSeg, error) {
	if len(atom) > 3 && atom[0] == '{' && atom[len(atom)-2] == '}' {
		name := strings.ToLower(atom[1 : len(atom)-2])
		switch atom[len(atom)-1] {
		case 'i':
			return accessSeg{kind: segReqHeader, lit: name}, nil
		case 'o':
			return accessSeg{kind: segRespHeader, lit: name}, nil
		}
	}
	kinds := map[string]segKind{
		"h": segHost, "l": segDash, "u": segDash, "t": segTime, "r": segRequest, "m": segMethod,
		"U": segPath, "q": segQuery, "H": segProto, "s": segStatus, "B": segBytes, "b": segBytesDash,
		"T": segSeconds, "D": segMicros, "M": segMillis, "L": segDecimal,
	}
	switch atom {
	case "p":
		return accessSeg{kind: segLiteral, lit: "<" + strconv.Itoa(os.Getpid()) + ">"}, nil
	case "f":
		return accessSeg{kind: segReqHeader, lit: "referer"}, nil
	case "a":
		return accessSeg{kind: segReqHeader, lit: "user-agent"}, nil
	}
	if k, ok := kinds[atom]; ok {
		return accessSeg{kind: k}, nil
	}
	return accessSeg{}, errors.New("access log format: unknown atom %(" + atom + ")s")
}

// jsonFormat is the json preset: one object per line.
func jsonFormat() *accessFormat {
	f := &accessFormat{json: true}
	add := func(lit string, k segKind, name string) {
		f.segs = append(f.segs, accessSeg{kind: segLiteral, lit: lit}, accessSeg{kind: k, lit: name})
	}
	add(`{"remote_addr":"`, segHost, "")
	add(`","time":"`, segTimeISO, "")
	add(`","request":"`, segRequest, "")
	add(`","method":"`, segMethod, "")
	add(`","path":"`, segPath, "")
	add(`","query":"`, segQuery, "")
	add(`","protocol":"`, segProto, "")
	add(`","status":`, segStatus, "")
	add(`,"bytes":`, segBytes, "")
	add(`,"referer":"`, segReqHeader, "referer")
	add(`","user_agent":"`, segReqHeader, "user-agent")
	add(`","duration_us":`, segMicros, "")
	f.segs = append(f.segs, accessSeg{kind: segLiteral, lit: `,"pid":` + strconv.Itoa(os.Getpid()) + "}"})
	return f
}

// append appends e's line, without a newline, to b.
func (f *accessFormat) append(b []byte, e *accessEntry) []byte {
	for i := range f.segs {
		s := &f.segs[i]
		switch s.kind {
		case segLiteral:
			b = append(b, s.lit...)
		case segUvicorn:
			b = appendUvicorn(b, e)
		case segHost:
			if e.client != nil && e.client.Host != "" {
				b = appendEsc(b, e.client.Host, f.json)
			} else {
				b = append(b, '-')
			}
		case segDash, segRespHeader:
			b = append(b, '-')
		case segTime:
			b = e.finished.AppendFormat(b, "[02/Jan/2006:15:04:05 -0700]")
		case segTimeISO:
			b = e.finished.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		case segRequest:
			b = f.appendRequest(b, e)
		case segMethod:
			b = appendEsc(b, e.method, f.json)
		case segPath:
			b = appendEsc(b, e.pathStr, f.json)
			b = appendEsc(b, e.path, f.json)
		case segQuery:
			b = appendEsc(b, e.query, f.json)
		case segProto:
			b = append(b, "HTTP/"...)
			b = append(b, e.proto...)
		case segStatus:
			b = strconv.AppendInt(b, int64(e.status), 10)
		case segBytes:
			b = strconv.AppendInt(b, e.sent, 10)
		case segBytesDash:
			if e.sent == 0 {
				b = append(b, '-')
			} else {
				b = strconv.AppendInt(b, e.sent, 10)
			}
		case segSeconds:
			b = strconv.AppendInt(b, int64(e.finished.Sub(e.started)/time.Second), 10)
		case segMicros:
			b = strconv.AppendInt(b, int64(e.finished.Sub(e.started)/time.Microsecond), 10)
		case segMillis:
			b = strconv.AppendInt(b, int64(e.finished.Sub(e.started)/time.Millisecond), 10)
		case segDecimal:
			us := int64(e.finished.Sub(e.started) / time.Microsecond)
			b = strconv.AppendInt(b, us/1e6, 10)
			b = append(b, '.')
			frac := us % 1e6
			for d := int64(100000); d > 1 && frac < d; d /= 10 {
				b = append(b, '0')
			}
			b = strconv.AppendInt(b, frac, 10)
		case segReqHeader:
			v := e.headers.Get(s.lit)
			if v == nil && !f.json {
				b = append(b, '-')
			} else {
				b = appendEsc(b, v, f.json)
			}
		}
	}
	return b
}

func (f *accessFormat) appendRequest(b []byte, e *accessEntry) []byte {
	b = appendEsc(b, e.method, f.json)
	b = append(b, ' ')
	b = appendEsc(b, e.pathStr, f.json)
	b = appendEsc(b, e.path, f.json)
	if len(e.query) > 0 {
		b = append(b, '?')
		b = appendEsc(b, e.query, f.json)
	}
	b = append(b, " HTTP/"...)
	return append(b, e.proto...)
}

// appendUvicorn appends the default line, the message logAccess logs.
func appendUvicorn(b []byte, e *accessEntry) []byte {
	if e.client != nil {
		b = append(b, e.client.Host...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(e.client.Port), 10)
	} else {
		b = append(b, ":0"...)
	}
	b = append(b, ` - "`...)
	if e.ws {
		b = append(b, "WebSocket "...)
		b = append(b, e.pathStr...)
		b = append(b, `" `...)
		if e.status == 101 {
			return append(b, "[accepted]"...)
		}
		b = strconv.AppendInt(b, int64(e.status), 10)
		return append(b, " [rejected]"...)
	}
	b = append(b, e.method...)
	b = append(b, ' ')
	b = append(b, e.path...)
	if len(e.query) > 0 {
		b = append(b, '?')
		b = append(b, e.query...)
	}
	b = append(b, " HTTP/"...)
	b = append(b, e.proto...)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	if e.cut {
		b = append(b, " (response incomplete: client disconnected or aborted)"...)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendEsc appends s escaped: with json, as a JSON string's contents (invalid UTF-8
// becomes U+FFFD); otherwise as Apache does, `"` and `\` get a backslash and control
// bytes become \xHH, so that a line stays one line.
func appendEsc[S ~string | ~[]byte](b []byte, s S, json bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			if json {
				b = append(b, `\u00`...)
			} else {
				b = append(b, `\x`...)
			}
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		case c >= utf8.RuneSelf && json:
			var rb [utf8.UTFMax]byte
			k := copy(rb[:], s[i:min(i+utf8.UTFMax, len(s))])
			r, n := utf8.DecodeRune(rb[:k])
			if r == utf8.RuneError && n == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		default:
			b = append(b, c)
		}
		i++
	}
	return b
}
