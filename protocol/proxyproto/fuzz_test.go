package proxyproto

import (
	"math/rand"
	"testing"
)

// FuzzParse checks that any input parses without panicking, identically whole, byte
// by byte and in random chunks, that the consumed count is in range and that a
// header with addresses has valid ones.
func FuzzParse(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		n, h, err := p.Parse(in)
		if n < 0 || n > len(in) || n > 0 && err != nil {
			t.Fatalf("n %d of %d, err %v", n, len(in), err)
		}
		if n > 0 && h.HasAddresses() && (!h.Source.IsValid() || !h.Destination.IsValid()) {
			t.Fatalf("header %+v", h)
		}
		if n == 0 && err == nil && len(in) >= 16+DefaultMaxV2Bytes {
			t.Fatalf("needs more after %d bytes", len(in))
		}
		rng := rand.New(rand.NewSource(int64(len(in))))
		for _, next := range []func(int) int{func(int) int { return 1 }, func(r int) int { return 1 + rng.Intn(r) }} {
			n2, h2, err2 := feed(in, next)
			if (err == nil) != (err2 == nil) || n2 != n || h2.Source != h.Source || h2.Destination != h.Destination || h2.Family != h.Family {
				t.Fatalf("in pieces: n %d err %v %+v; whole: n %d err %v %+v", n2, err2, h2, n, err, h)
			}
		}
	})
}

// FuzzAddr checks the address parsers against net/netip.
func FuzzAddr(f *testing.F) {
	for _, s := range []string{"::", "1::2", "::ffff:1.2.3.4", "1.2.3.4", "255.255.255.255", "01.2.3.4", "1:2:3:4:5:6:7:8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		compareIPv6(t, s)
		compareIPv4(t, s)
	})
}
