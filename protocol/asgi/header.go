package asgi

import "encoding/binary"

// HeaderField is one header line. In scopes the Name is lower-cased; values are the raw
// bytes as received. In messages sent by apps, names of any case are accepted and written
// as given (HTTP/1.1) or lower-cased (HTTP/2).
type HeaderField struct {
	Name  []byte
	Value []byte
}

// Headers is an ordered list of header fields, as in ASGI. Repeated names are kept as
// separate fields in the order received.
type Headers []HeaderField

// H builds Headers from alternating name, value strings; it is meant for apps and tests
// (it allocates). H("content-type", "text/plain") is one field. An odd trailing name is
// ignored.
func H(pairs ...string) Headers {
	h := make(Headers, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		h = append(h, HeaderField{Name: []byte(pairs[i]), Value: []byte(pairs[i+1])})
	}
	return h
}

// Get returns the value of the first field whose name equals name, compared
// case-insensitively (ASCII), or nil when there is none.
func (h Headers) Get(name string) []byte {
	for i := range h {
		if EqualFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return nil
}

// Has reports whether a field named name (case-insensitive) is present.
func (h Headers) Has(name string) bool {
	for i := range h {
		if EqualFold(h[i].Name, name) {
			return true
		}
	}
	return false
}

// Values returns the values of every field named name (case-insensitive), in order.
func (h Headers) Values(name string) [][]byte {
	var out [][]byte
	for i := range h {
		if EqualFold(h[i].Name, name) {
			out = append(out, h[i].Value)
		}
	}
	return out
}

// Clone returns a deep copy of h in one allocation for all bytes (plus the slice).
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	n := 0
	for i := range h {
		n += len(h[i].Name) + len(h[i].Value)
	}
	buf := make([]byte, 0, n)
	out := make(Headers, len(h))
	for i := range h {
		s := len(buf)
		buf = append(buf, h[i].Name...)
		out[i].Name = buf[s:len(buf):len(buf)]
		s = len(buf)
		buf = append(buf, h[i].Value...)
		out[i].Value = buf[s:len(buf):len(buf)]
	}
	return out
}

// EqualFold reports whether b equals s under ASCII case folding. It does not allocate.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c == d {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// ValidHeaderName reports whether name is a non-empty RFC 9110 token.
func ValidHeaderName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if !IsTokenChar(c) {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether value holds only field-content bytes: visible
// characters, obs-text, space and horizontal tab; never CR, LF or NUL (RFC 9110 5.5).
func ValidHeaderValue(value []byte) bool {
	// Eight bytes at a time while no byte is below 0x20 or equal to 0x7f (every value
	// sent is checked, most of them plain text); a word holding one, a tab perhaps, is
	// checked byte by byte with the rest.
	for len(value) >= 8 {
		w := binary.LittleEndian.Uint64(value)
		if hasByteBelow(w, 0x20) || hasByteBelow(w^(lsbs*0x7f), 1) {
			break
		}
		value = value[8:]
	}
	for _, c := range value {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// lsbs has the low bit of every byte of a word set: lsbs*b repeats byte b.
const lsbs = 0x0101010101010101

// hasByteBelow reports whether a byte of w is below n (n <= 128): a byte below n
// borrows into its own top bit, which only such a byte can (Bit Twiddling Hacks'
// hasless).
func hasByteBelow(w uint64, n byte) bool {
	return (w-lsbs*uint64(n))&^w&(lsbs*0x80) != 0
}

// IsTokenChar reports whether c may appear in an RFC 9110 token (tchar).
func IsTokenChar(c byte) bool { return tokenTable[c] }

var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
