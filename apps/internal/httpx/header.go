package httpx

import (
	"strings"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// JoinValues returns the values of every field of h concatenated, in one allocation.
// Adapters that hand header values to code wanting strings cut field i's value from it
// (the bytes after the values of fields 0..i-1) instead of allocating a string per
// field. Safe for concurrent use; h is not retained.
func JoinValues(h asgi.Headers) string {
	size := 0
	for i := range h {
		size += len(h[i].Value)
	}
	var sb strings.Builder
	sb.Grow(size)
	for i := range h {
		sb.Write(h[i].Value)
	}
	return sb.String()
}
