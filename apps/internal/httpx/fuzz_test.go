package httpx

import (
	"math"
	"strconv"
	"testing"
)

// FuzzParseUint checks ParseUint against strconv.ParseInt on digit-only input.
func FuzzParseUint(f *testing.F) {
	for _, s := range []string{"0", "123", "9223372036854775807", "9223372036854775808", "", "-1", "1e3", "00"} {
		f.Add(s, int64(math.MaxInt64))
	}
	f.Add("1000", int64(999))
	f.Fuzz(func(t *testing.T, s string, max int64) {
		if max < 0 {
			max = -(max + 1)
		}
		got, err := ParseUint([]byte(s), max)
		digits := s != ""
		for i := 0; i < len(s); i++ {
			digits = digits && s[i] >= '0' && s[i] <= '9'
		}
		want, werr := strconv.ParseInt(s, 10, 64)
		ok := digits && werr == nil && want <= max
		if ok != (err == nil) || ok && got != want {
			t.Fatalf("ParseUint(%q, %d) = %d, %v; strconv says %d, %v", s, max, got, err, want, werr)
		}
	})
}
