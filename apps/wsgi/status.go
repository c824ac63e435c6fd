package wsgi

import (
	"fmt"
	"strings"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// parseStatus parses a PEP 3333 status line, "NNN reason", into its code. Informational
// codes are refused: a WSGI handler cannot send interim responses.
func parseStatus(status string) (int, error) {
	if len(status) < 4 || status[3] != ' ' {
		return 0, fmt.Errorf("%w %q: want \"NNN reason\"", ErrInvalidStatus, status)
	}
	code := 0
	for _, c := range status[:3] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w %q: want \"NNN reason\"", ErrInvalidStatus, status)
		}
		code = code*10 + int(c-'0')
	}
	if code < 200 || code > 599 || !asgi.ValidHeaderValue([]byte(status[4:])) {
		return 0, fmt.Errorf("%w %q: code must be 200-599", ErrInvalidStatus, status)
	}
	return code, nil
}

// convertHeaders validates the handler's headers and converts them to asgi.Headers, all
// names and values sharing one buffer; the result has room for one more field. It
// reuses buf and h (which may be nil) when they are large enough.
func convertHeaders(headers [][2]string, buf []byte, h asgi.Headers) (asgi.Headers, []byte, error) {
	size := 0
	for _, kv := range headers {
		size += len(kv[0]) + len(kv[1])
	}
	if cap(buf) < size {
		buf = make([]byte, 0, size)
	}
	buf = buf[:0]
	if cap(h) < len(headers)+1 {
		h = make(asgi.Headers, 0, len(headers)+1)
	}
	h = h[:len(headers)]
	for i, kv := range headers {
		start := len(buf)
		buf = append(buf, kv[0]...)
		buf = append(buf, kv[1]...)
		name, value := buf[start:start+len(kv[0]):start+len(kv[0])], buf[start+len(kv[0]):len(buf):len(buf)]
		if !asgi.ValidHeaderName(name) || !asgi.ValidHeaderValue(value) {
			return nil, nil, fmt.Errorf("%w %q: %q", ErrInvalidHeader, kv[0], kv[1])
		}
		if hopByHop(kv[0]) {
			return nil, nil, fmt.Errorf("%w %q: hop-by-hop headers are the server's", ErrInvalidHeader, kv[0])
		}
		h[i] = asgi.HeaderField{Name: name, Value: value}
	}
	return h, buf, nil
}

// hopByHop reports whether name is a hop-by-hop header, which PEP 3333 reserves to
// the server.
func hopByHop(name string) bool {
	for _, h := range hopByHopNames {
		// Lengths first: most names are none of these, and EqualFold is not free.
		if len(name) == len(h) && strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

var hopByHopNames = []string{"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
	"te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"}
