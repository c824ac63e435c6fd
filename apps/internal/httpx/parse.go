package httpx

import (
	"errors"
	"fmt"
	"net/url"
)

// ErrNotDecimal is returned by ParseUint for input that is empty, holds a byte other
// than an ASCII digit, or exceeds the maximum allowed.
var ErrNotDecimal = errors.New("httpx: not a decimal number in range")

// ParseUint parses b as a non-negative decimal integer no greater than max. It does not
// allocate. Leading zeros are accepted; signs, spaces and empty input are not.
func ParseUint(b []byte, max int64) (int64, error) {
	if len(b) == 0 {
		return 0, ErrNotDecimal
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, ErrNotDecimal
		}
		d := int64(c - '0')
		if n > (max-d)/10 {
			return 0, ErrNotDecimal
		}
		n = n*10 + d
	}
	return n, nil
}

// Query is a parsed query string.
type Query url.Values

// ParseQuery parses a raw (percent-encoded) query string. A malformed query is an
// error, reported as a 400 by the apps.
func ParseQuery(raw []byte) (Query, error) {
	v, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, fmt.Errorf("httpx: bad query string: %w", err)
	}
	return Query(v), nil
}

// Int returns the first value of parameter name as an integer in [0, max], or def when
// the parameter is absent. An empty, negative, non-decimal or too large value is an
// error naming the parameter and its range.
func (q Query) Int(name string, def, max int64) (int64, error) {
	vs, ok := q[name]
	if !ok || len(vs) == 0 {
		return def, nil
	}
	n, err := ParseUint([]byte(vs[0]), max)
	if err != nil {
		return 0, fmt.Errorf("%s must be an integer in [0, %d]", name, max)
	}
	return n, nil
}
