package ipfilter

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// u128 is an IPv6 address as a 128-bit unsigned number.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) inc() (u128, bool) {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
		if hi == 0 {
			return a, false // overflow: a was the largest value
		}
	}
	return u128{hi, lo}, true
}

func from16(b [16]byte) u128 {
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

type range4 struct{ lo, hi uint32 }
type range6 struct{ lo, hi u128 }

// Set is a set of IP addresses built from addresses and prefixes: sorted, merged,
// non-overlapping ranges per address family. Contains is a binary search; it does not
// allocate. A Set is read-only once built and safe for concurrent use.
type Set struct {
	v4 []range4
	v6 []range6
}

// ParseSet parses entries, each an IP address ("192.0.2.1", "2001:db8::1") or a CIDR
// prefix ("10.0.0.0/8", "2001:db8::/32"), into a Set. Host bits of a prefix are
// ignored ("10.1.2.3/8" is 10.0.0.0/8). Zones are refused.
func ParseSet(entries []string) (*Set, error) {
	s := &Set{}
	for _, e := range entries {
		p, err := parseEntry(e)
		if err != nil {
			return nil, err
		}
		s.add(p)
	}
	s.normalize()
	return s, nil
}

func parseEntry(e string) (netip.Prefix, error) {
	e = strings.TrimSpace(e)
	var p netip.Prefix
	if strings.Contains(e, "/") {
		var err error
		if p, err = netip.ParsePrefix(e); err != nil {
			return p, fmt.Errorf("ipfilter: %q is not an IP address or CIDR prefix", e)
		}
	} else {
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("ipfilter: %q is not an IP address or CIDR prefix", e)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = p.Masked()
	// ::ffff:0:0/96 and longer describe IPv4 addresses: store them as IPv4.
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

func (s *Set) add(p netip.Prefix) {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		lo := binary.BigEndian.Uint32(b[:])
		var hostMask uint32
		if p.Bits() < 32 {
			hostMask = ^uint32(0) >> p.Bits()
		}
		s.v4 = append(s.v4, range4{lo, lo | hostMask})
		return
	}
	lo := from16(a.As16())
	bits := p.Bits()
	var mask u128
	switch {
	case bits == 0:
		mask = u128{^uint64(0), ^uint64(0)}
	case bits < 64:
		mask = u128{^uint64(0) >> bits, ^uint64(0)}
	case bits < 128:
		mask = u128{0, ^uint64(0) >> (bits - 64)}
	}
	s.v6 = append(s.v6, range6{lo, u128{lo.hi | mask.hi, lo.lo | mask.lo}})
}

// normalize sorts the ranges and merges overlapping and adjacent ones.
func (s *Set) normalize() {
	slices.SortFunc(s.v4, func(a, b range4) int { return cmp.Compare(a.lo, b.lo) })
	out4 := s.v4[:0]
	for _, r := range s.v4 {
		if n := len(out4); n > 0 && (out4[n-1].hi == ^uint32(0) || r.lo <= out4[n-1].hi+1) {
			out4[n-1].hi = max(out4[n-1].hi, r.hi)
			continue
		}
		out4 = append(out4, r)
	}
	s.v4 = slices.Clip(out4)
	slices.SortFunc(s.v6, func(a, b range6) int { return a.lo.cmp(b.lo) })
	out6 := s.v6[:0]
	for _, r := range s.v6 {
		if n := len(out6); n > 0 {
			last := &out6[n-1]
			next, ok := last.hi.inc()
			if !ok || r.lo.cmp(next) <= 0 {
				if r.hi.cmp(last.hi) > 0 {
					last.hi = r.hi
				}
				continue
			}
		}
		out6 = append(out6, r)
	}
	s.v6 = slices.Clip(out6)
}

// Len returns the number of merged ranges in the set.
func (s *Set) Len() int { return len(s.v4) + len(s.v6) }

// Contains reports whether a is in the set. An IPv4-mapped IPv6 address is looked up
// as IPv4. It does not allocate.
func (s *Set) Contains(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		// The first range whose lo is above x; the one before it may contain x.
		i, j := 0, len(s.v4)
		for i < j {
			h := int(uint(i+j) >> 1)
			if s.v4[h].lo <= x {
				i = h + 1
			} else {
				j = h
			}
		}
		return i > 0 && x <= s.v4[i-1].hi
	}
	if !a.Is6() {
		return false
	}
	x := from16(a.As16())
	i, j := 0, len(s.v6)
	for i < j {
		h := int(uint(i+j) >> 1)
		if s.v6[h].lo.cmp(x) <= 0 {
			i = h + 1
		} else {
			j = h
		}
	}
	return i > 0 && x.cmp(s.v6[i-1].hi) <= 0
}
