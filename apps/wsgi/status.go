package wsgi

import (
	"fmt"
	"strings"

	"asgo/protocol/asgi"
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

// convertHeaders validates the handler's headers and converts them to asgi.Headers.
func convertHeaders(headers [][2]string) (asgi.Headers, error) {
	h := make(asgi.Headers, len(headers), len(headers)+1)
	for i, kv := range headers {
		name, value := []byte(kv[0]), []byte(kv[1])
		if !asgi.ValidHeaderName(name) || !asgi.ValidHeaderValue(value) {
			return nil, fmt.Errorf("%w %q: %q", ErrInvalidHeader, kv[0], kv[1])
		}
		if hopByHop(kv[0]) {
			return nil, fmt.Errorf("%w %q: hop-by-hop headers are the server's", ErrInvalidHeader, kv[0])
		}
		h[i] = asgi.HeaderField{Name: name, Value: value}
	}
	return h, nil
}

// hopByHop reports whether name is a hop-by-hop header, which PEP 3333 reserves to
// the server.
func hopByHop(name string) bool {
	switch strings.ToLower(name) {
	case "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"te", "trailer", "transfer-encoding", "upgrade", "proxy-connection":
		return true
	}
	return false
}
