package proxyproto

import (
	"encoding/binary"
	"errors"
	"math/rand"
	"net/netip"
	"testing"

	"github.com/asgo-dev/asgo/protocol/internal/feedtest"
)

// v2 builds a v2 header: verCmd, famProto, the address block and TLVs.
func v2(verCmd, famProto byte, block ...[]byte) []byte {
	b := append([]byte(nil), sigV2...)
	b = append(b, verCmd, famProto, 0, 0)
	for _, p := range block {
		b = append(b, p...)
	}
	binary.BigEndian.PutUint16(b[14:16], uint16(len(b)-16))
	return b
}

func ipv4Block(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, sp), dp)
}

func ipv6Block(src, dst string, sp, dp uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, sp), dp)
}

func unixBlock(src, dst string) []byte {
	b := make([]byte, 216)
	copy(b, src)
	copy(b[108:], dst)
	return b
}

func tlv(typ byte, v string) []byte {
	return append([]byte{typ, byte(len(v) >> 8), byte(len(v))}, v...)
}

type want struct {
	err       error
	n         int // 0: the whole input
	version   uint8
	cmd       Command
	family    Family
	src, dst  string // AddrPort, "" for none
	srcPath   string
	tlvs      int
	transport Transport
}

var cases = map[string]struct {
	in   []byte
	want want
}{
	"v1 tcp4": {[]byte("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n"),
		want{version: 1, family: FamilyIPv4, src: "192.0.2.7:56324", dst: "198.51.100.1:443", transport: TransportStream}},
	"v1 tcp6": {[]byte("PROXY TCP6 2001:db8::7 ::1 65535 0\r\n"),
		want{version: 1, family: FamilyIPv6, src: "[2001:db8::7]:65535", dst: "[::1]:0", transport: TransportStream}},
	"v1 tcp6 mapped": {[]byte("PROXY TCP6 ::ffff:192.0.2.7 1:2:3:4:5:6:7:8 1 2\r\n"),
		want{version: 1, family: FamilyIPv6, src: "[::ffff:192.0.2.7]:1", dst: "[1:2:3:4:5:6:7:8]:2", transport: TransportStream}},
	"v1 unknown":            {[]byte("PROXY UNKNOWN\r\n"), want{version: 1}},
	"v1 unknown with addrs": {[]byte("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"), want{version: 1}},
	"v1 data after": {[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n\r\n"),
		want{n: 32, version: 1, family: FamilyIPv4, src: "1.2.3.4:1", dst: "5.6.7.8:2", transport: TransportStream}},
	"v1 longest": {[]byte("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
		want{version: 1, family: FamilyIPv6, src: "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", dst: "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", transport: TransportStream}},

	"v1 tcp4 with v6":   {[]byte("PROXY TCP4 ::1 ::1 1 2\r\n"), want{err: ErrV1}},
	"v1 tcp6 with v4":   {[]byte("PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n"), want{err: ErrV1}},
	"v1 port too big":   {[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), want{err: ErrV1}},
	"v1 leading zero":   {[]byte("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"), want{err: ErrV1}},
	"v1 double space":   {[]byte("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"), want{err: ErrV1}},
	"v1 trailing space": {[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), want{err: ErrV1}},
	"v1 missing port":   {[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), want{err: ErrV1}},
	"v1 bare LF":        {[]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), want{err: ErrV1}},
	"v1 lowercase":      {[]byte("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"), want{err: ErrV1}},
	"v1 too long":       {append([]byte("PROXY UNKNOWN "), make([]byte, 100)...), want{err: ErrTooLong}},
	"v1 zone":           {[]byte("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"), want{err: ErrV1}},
	"plain http":        {[]byte("GET / HTTP/1.1\r\n"), want{err: ErrNotProxy}},
	"h2 preface":        {[]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), want{err: ErrNotProxy}},
	"crlf":              {[]byte("\r\n\r\nGET"), want{err: ErrNotProxy}},

	"v2 tcp4": {v2(0x21, 0x11, ipv4Block("192.0.2.7", "198.51.100.1", 56324, 443)),
		want{version: 2, family: FamilyIPv4, src: "192.0.2.7:56324", dst: "198.51.100.1:443", transport: TransportStream}},
	"v2 tcp6 with tlvs": {v2(0x21, 0x21, ipv6Block("2001:db8::7", "2001:db8::1", 1, 2), tlv(0x01, "h2"), tlv(0x04, ""), tlv(0x20, "\x05\x00\x00\x00\x00")),
		want{version: 2, family: FamilyIPv6, src: "[2001:db8::7]:1", dst: "[2001:db8::1]:2", tlvs: 3, transport: TransportStream}},
	"v2 udp4": {v2(0x21, 0x12, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)),
		want{version: 2, family: FamilyIPv4, src: "1.2.3.4:1", dst: "5.6.7.8:2", transport: TransportDatagram}},
	"v2 unix": {v2(0x21, 0x31, unixBlock("/run/client.sock", "/run/asgo.sock")),
		want{version: 2, family: FamilyUnix, srcPath: "/run/client.sock", transport: TransportStream}},
	"v2 local":            {v2(0x20, 0x00), want{version: 2, cmd: CommandLocal}},
	"v2 local with block": {v2(0x20, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), []byte{0xff}), want{version: 2, cmd: CommandLocal}},
	"v2 unspec":           {v2(0x21, 0x00, []byte("ignored")), want{version: 2}},
	"v2 data after": {append(v2(0x21, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), "PRI * HTTP/2.0"...),
		want{n: 28, version: 2, family: FamilyIPv4, src: "1.2.3.4:1", dst: "5.6.7.8:2", transport: TransportStream}},

	"v2 version 1":     {v2(0x11, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), want{err: ErrV2}},
	"v2 command 2":     {v2(0x22, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), want{err: ErrV2}},
	"v2 family 4":      {v2(0x21, 0x41, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), want{err: ErrV2}},
	"v2 transport 3":   {v2(0x21, 0x13, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), want{err: ErrV2}},
	"v2 short block":   {v2(0x21, 0x21, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)), want{err: ErrV2}},
	"v2 truncated tlv": {v2(0x21, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), []byte{1, 0, 9, 'x'}), want{err: ErrV2}},
	"v2 tlv stub":      {v2(0x21, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), []byte{1, 0}), want{err: ErrV2}},
	"v2 too long":      {v2(0x21, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0xe0, string(make([]byte, 5000)))), want{err: ErrTooLong}},
	"v2 bad signature": {[]byte("\r\n\r\n\x00\r\nQUIT\r"), want{err: ErrNotProxy}},
}

func check(t *testing.T, in []byte, w want, n int, h Header, err error) {
	t.Helper()
	if w.err != nil {
		if !errors.Is(err, w.err) {
			t.Fatalf("err %v, want %v", err, w.err)
		}
		return
	}
	wn := w.n
	if wn == 0 {
		wn = len(in)
	}
	if err != nil || n != wn {
		t.Fatalf("n %d err %v, want %d", n, err, wn)
	}
	if h.Version != w.version || h.Command != w.cmd || h.Family != w.family || h.Transport != w.transport {
		t.Fatalf("header %+v, want %+v", h, w)
	}
	as := func(a netip.AddrPort) string {
		if !a.IsValid() {
			return ""
		}
		return a.String()
	}
	if as(h.Source) != w.src || as(h.Destination) != w.dst || string(h.SourcePath) != w.srcPath {
		t.Fatalf("addresses %v %v %q, want %s %s %s", h.Source, h.Destination, h.SourcePath, w.src, w.dst, w.srcPath)
	}
	if h.HasAddresses() != (w.src != "") {
		t.Fatalf("HasAddresses %v", h.HasAddresses())
	}
	k := 0
	for rest := h.TLVs; len(rest) > 0; k++ {
		_, _, rest, _ = NextTLV(rest)
	}
	if k != w.tlvs {
		t.Fatalf("%d TLVs, want %d", k, w.tlvs)
	}
}

// feed runs in through Parse in pieces: the first header it completes, or its error.
func feed(in []byte, next func(int) int) (n int, h Header, err error) {
	var p Parser
	done := false
	_, err = feedtest.Feed(in, next, func(buf []byte) (int, bool, error) {
		if done {
			return 0, true, nil
		}
		k, hh, e := p.Parse(buf)
		if e != nil || k == 0 {
			return 0, true, e
		}
		done, n, h = true, k, hh
		// The header's slices alias buf: copy what the checks read.
		h.SourcePath = append([]byte(nil), h.SourcePath...)
		h.TLVs = append([]byte(nil), h.TLVs...)
		return 0, true, nil // leave the data where it is: n is reported on its own
	})
	return n, h, err
}

func TestParse(t *testing.T) {
	chunkings := map[string]func(int) int{
		"whole":        func(n int) int { return n },
		"byte by byte": func(int) int { return 1 },
		"random":       func(n int) int { return 1 + rand.Intn(n) },
	}
	for name, tc := range cases {
		for how, next := range chunkings {
			t.Run(name+"/"+how, func(t *testing.T) {
				n, h, err := feed(tc.in, next)
				if err == nil && n == 0 && tc.want.err != nil {
					t.Fatalf("needs more input; want %v", tc.want.err)
				}
				check(t, tc.in, tc.want, n, h, err)
			})
		}
	}
}

// TestPrefixesNeedMore checks that every proper prefix of a valid header asks for
// more input rather than failing.
func TestPrefixesNeedMore(t *testing.T) {
	var p Parser
	for name, tc := range cases {
		if tc.want.err != nil || tc.want.n != 0 {
			continue
		}
		for i := range len(tc.in) {
			if n, _, err := p.Parse(tc.in[:i]); n != 0 || err != nil {
				t.Fatalf("%s: prefix of %d bytes: n %d err %v", name, i, n, err)
			}
		}
	}
}

func TestMaxV2Bytes(t *testing.T) {
	in := v2(0x21, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2), tlv(0xe0, string(make([]byte, 400))))
	if _, _, err := (&Parser{MaxV2Bytes: 300}).Parse(in); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err %v", err)
	}
	if n, _, err := (&Parser{MaxV2Bytes: 500}).Parse(in); n != len(in) || err != nil {
		t.Fatalf("n %d err %v", n, err)
	}
	// The length is refused before the bytes arrive.
	if _, _, err := (&Parser{MaxV2Bytes: 300}).Parse(in[:16]); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err %v", err)
	}
}

func TestParseAllocs(t *testing.T) {
	var p Parser
	ins := [][]byte{
		[]byte("PROXY TCP6 2001:db8::7 ::ffff:1.2.3.4 65535 0\r\n"),
		[]byte("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n"),
		v2(0x21, 0x21, ipv6Block("2001:db8::7", "2001:db8::1", 1, 2), tlv(0x01, "h2")),
		v2(0x21, 0x11, ipv4Block("1.2.3.4", "5.6.7.8", 1, 2)),
	}
	for _, in := range ins {
		if a := testing.AllocsPerRun(100, func() {
			if n, _, err := p.Parse(in); n != len(in) || err != nil {
				t.Fatal(n, err)
			}
		}); a != 0 {
			t.Fatalf("%q: %v allocations", in, a)
		}
	}
}

func TestIPv6AgainstNetip(t *testing.T) {
	for _, s := range []string{"::", "::1", "1::", "1::2", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"1:2:3:4:5:6::8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "fe80::1:2", "FFFF::abcd",
		":::", "1:::2", "1::2::3", ":1", "1:", "1:2:3:4:5:6:7:8:9", "12345::", "1.2.3.4", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
		"::1.2.3.4:5", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "g::", ""} {
		compareIPv6(t, s)
	}
}

func compareIPv6(t *testing.T, s string) {
	t.Helper()
	got, ok := parseIPv6([]byte(s))
	want, err := netip.ParseAddr(s)
	wantOK := err == nil && want.Is6() && want.Zone() == ""
	if ok != wantOK || (ok && got != want) {
		t.Fatalf("%q: got %v %v, netip %v %v", s, got, ok, want, err)
	}
}

func compareIPv4(t *testing.T, s string) {
	t.Helper()
	got, ok := parseIPv4([]byte(s))
	want, err := netip.ParseAddr(s)
	wantOK := err == nil && want.Is4()
	if ok != wantOK || (ok && got != want) {
		t.Fatalf("%q: got %v %v, netip %v %v", s, got, ok, want, err)
	}
}
