package asgi

import (
	"testing"
)

// validValueByByte is ValidHeaderValue's rule, one byte at a time.
func validValueByByte(value []byte) bool {
	for _, c := range value {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// TestValidHeaderValueEveryByteEveryPlace: every byte value, at every place of values
// long enough to take the eight-byte path and its tail, is judged as the byte-by-byte
// rule judges it.
func TestValidHeaderValueEveryByteEveryPlace(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for at := range n {
			for b := range 256 {
				v := make([]byte, n)
				for i := range v {
					v[i] = 'a' + byte(i%26)
				}
				v[at] = byte(b)
				if got, want := ValidHeaderValue(v), validValueByByte(v); got != want {
					t.Fatalf("value %q: %v, want %v", v, got, want)
				}
			}
		}
	}
	for _, v := range []string{"", "text/plain; charset=utf-8", "a\tb c\x80\xff~", "0123456789abcdef\x7f", "0123456789abcdef\r\n"} {
		if got, want := ValidHeaderValue([]byte(v)), validValueByByte([]byte(v)); got != want {
			t.Errorf("value %q: %v, want %v", v, got, want)
		}
	}
}

func TestValidHeaderValueAllocs(t *testing.T) {
	v := []byte("text/html; charset=utf-8")
	if n := testing.AllocsPerRun(100, func() { ValidHeaderValue(v) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func FuzzValidHeaderValue(f *testing.F) {
	for _, s := range []string{"", "text/plain", "a\tb", "x\r\ny: z", "\x00\x7f\x80\xff", "0123456789abcdef\x1f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if got, want := ValidHeaderValue(v), validValueByByte(v); got != want {
			t.Fatalf("value %q: %v, want %v", v, got, want)
		}
	})
}

func BenchmarkValidHeaderValue(b *testing.B) {
	v := []byte("public, max-age=31536000, immutable")
	for b.Loop() {
		ValidHeaderValue(v)
	}
}
