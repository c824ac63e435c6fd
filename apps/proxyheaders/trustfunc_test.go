package proxyheaders

import (
	"net/netip"
	"testing"
)

func TestTrustFunc(t *testing.T) {
	f, err := TrustFunc(Config{Trusted: []string{"10.0.0.0/8", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"10.1.2.3": true, "::ffff:10.1.2.3": true, "::1": true, "127.0.0.1": false, "11.0.0.1": false} {
		if got := f(netip.MustParseAddr(a)); got != want {
			t.Errorf("%s: %v, want %v", a, got, want)
		}
	}
	if f(netip.Addr{}) {
		t.Error("a Unix peer is trusted without *")
	}
	def, _ := TrustFunc(Config{})
	if !def(netip.MustParseAddr("127.0.0.1")) || def(netip.MustParseAddr("127.0.0.2")) {
		t.Error("default set")
	}
	all, _ := TrustFunc(Config{Trusted: []string{"*"}})
	if !all(netip.Addr{}) || !all(netip.MustParseAddr("192.0.2.1")) {
		t.Error("* trusts everyone")
	}
	if _, err := TrustFunc(Config{Trusted: []string{"10.0.0.0/99"}}); err == nil {
		t.Error("bad CIDR accepted")
	}
	if a := testing.AllocsPerRun(100, func() { f(netip.MustParseAddr("10.1.2.3")) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
}
