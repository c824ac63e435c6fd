package headerlist

import (
	"bytes"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Cut returns the first element of the comma-separated list, without OWS, the rest
// after the comma (nil at the end), and whether a comma followed the element. Empty
// elements ("a,,b", a trailing comma) are returned as empty slices; callers skip them or
// refuse them as their field requires.
func Cut(list []byte) (elem, rest []byte, more bool) {
	if i := bytes.IndexByte(list, ','); i >= 0 {
		return TrimOWS(list[:i]), list[i+1:], true
	}
	return TrimOWS(list), nil, false
}

// Contains reports whether the comma-separated list holds tok, compared ASCII
// case-insensitively, with OWS around elements ignored.
func Contains(list []byte, tok string) bool {
	for len(list) > 0 {
		var elem []byte
		elem, list, _ = Cut(list)
		if asgi.EqualFold(elem, tok) {
			return true
		}
	}
	return false
}

// TrimOWS removes leading and trailing SP and HTAB.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
