package asgi

// DecodePath percent-decodes a raw request path into the Path of a scope, as ASGI
// requires: every "%XX" with two hex digits becomes that byte, and invalid escapes are
// kept as they are (as Python's urllib.parse.unquote does). It allocates only when the
// result is a new string: a string without '%' is returned as it is, and a []byte
// without '%' costs the one conversion. Safe for concurrent use; raw is not retained.
func DecodePath[S string | []byte](raw S) string {
	i := 0
	for i < len(raw) && raw[i] != '%' {
		i++
	}
	if i == len(raw) {
		return string(raw)
	}
	return string(appendDecoded(make([]byte, 0, len(raw)), raw, i))
}

// AppendDecodedPath appends DecodePath(raw) to dst, which needs room for at most
// len(raw) more bytes; servers use it to build a scope's Path in a buffer of their own.
func AppendDecodedPath(dst, raw []byte) []byte {
	return appendDecoded(dst, raw, 0)
}

// appendDecoded appends raw decoded to out; raw[:i] has no '%'.
func appendDecoded[S string | []byte](out []byte, raw S, i int) []byte {
	out = append(out, raw[:i]...)
	for ; i < len(raw); i++ {
		if raw[i] == '%' && i+2 < len(raw) {
			hi, ok1 := unhex(raw[i+1])
			lo, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				out = append(out, hi<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
