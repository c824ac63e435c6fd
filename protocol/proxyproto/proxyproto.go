package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
)

// Command is what a header says about the connection.
type Command uint8

const (
	// CommandProxy relays a client's connection: the addresses are the client's.
	CommandProxy Command = iota
	// CommandLocal is a connection the proxy opened itself (a health check): the
	// receiver keeps the socket's addresses.
	CommandLocal
)

// Family is the address family of a header.
type Family uint8

const (
	// FamilyUnspec carries no addresses (v1 UNKNOWN, v2 AF_UNSPEC).
	FamilyUnspec Family = iota
	FamilyIPv4
	FamilyIPv6
	// FamilyUnix carries socket paths (v2 only).
	FamilyUnix
)

// Transport is the transport protocol of a v2 header (v1 says TCP).
type Transport uint8

const (
	TransportUnspec Transport = iota
	TransportStream
	TransportDatagram
)

// Header is a parsed PROXY header. Source and Destination are set for FamilyIPv4
// and FamilyIPv6 with CommandProxy. SourcePath, DestinationPath and TLVs alias the
// input given to Parse: they are valid while those bytes are, and must be copied to
// be kept.
type Header struct {
	Version   uint8 // 1 or 2
	Command   Command
	Family    Family
	Transport Transport

	Source, Destination netip.AddrPort

	// SourcePath and DestinationPath are the Unix socket paths of FamilyUnix (up to
	// the first NUL).
	SourcePath, DestinationPath []byte
	// TLVs are the v2 type-length-value records after the address block, checked to
	// be well formed (walk them with NextTLV).
	TLVs []byte
}

// HasAddresses reports whether the header names the client's and server's IP
// addresses; when it does not (LOCAL, UNSPEC, UNKNOWN, Unix) the receiver keeps the
// socket's own.
func (h *Header) HasAddresses() bool {
	return h.Command == CommandProxy && (h.Family == FamilyIPv4 || h.Family == FamilyIPv6)
}

// Errors of Parse. They are fixed values: matching them with errors.Is is enough.
var (
	// ErrNotProxy: the input does not start with a PROXY header of either version.
	ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")
	// ErrTooLong: a v1 line longer than 107 bytes, or a v2 header over MaxV2Bytes.
	ErrTooLong = errors.New("proxyproto: header too long")
	// ErrV1 and ErrV2 report a malformed header of that version.
	ErrV1 = errors.New("proxyproto: malformed v1 header")
	ErrV2 = errors.New("proxyproto: malformed v2 header")
)

const (
	// MaxV1Bytes is the longest v1 header, CRLF included (the specification's 107).
	MaxV1Bytes = 107
	// DefaultMaxV2Bytes caps a v2 header (16 bytes plus the length field) when
	// Parser.MaxV2Bytes is zero: room for the address block and the TLVs load
	// balancers send (AWS, GCP, haproxy's SSL and unique-id TLVs), far below the
	// 65,551 bytes the length field allows.
	DefaultMaxV2Bytes = 16 + 4096

	v2HeaderBytes = 16
)

var (
	sigV1 = []byte("PROXY ")
	sigV2 = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

// Parser parses PROXY headers. It holds only its limit: the zero value is ready and
// one Parser may be shared by any number of goroutines.
type Parser struct {
	// MaxV2Bytes caps a v2 header, its 16 fixed bytes included; zero means
	// DefaultMaxV2Bytes. Values below 16+216 are raised to that (a Unix address
	// block must fit).
	MaxV2Bytes int
}

// Parse reads a PROXY header at the start of b. It returns n > 0 and the header once
// b holds one whole (the header is b[:n]; what follows is the connection's data);
// n == 0 and a nil error when b is a proper prefix of a header and more input is
// needed; or an error (ErrNotProxy, ErrTooLong, ErrV1, ErrV2) once b cannot be a
// header. It keeps no state between calls; Header's slices alias b.
func (p *Parser) Parse(b []byte) (n int, h Header, err error) {
	n, h, err = p.parse(b)
	if err != nil || n == 0 {
		return 0, Header{}, err // no partial header
	}
	return n, h, nil
}

func (p *Parser) parse(b []byte) (n int, h Header, err error) {
	if len(b) == 0 {
		return 0, h, nil
	}
	switch b[0] {
	case 'P':
		if !hasPrefixPart(b, sigV1) {
			return 0, h, ErrNotProxy
		}
		return parseV1(b)
	case '\r':
		if !hasPrefixPart(b, sigV2) {
			return 0, h, ErrNotProxy
		}
		return p.parseV2(b)
	}
	return 0, h, ErrNotProxy
}

// hasPrefixPart reports whether b and sig agree on their common length.
func hasPrefixPart(b, sig []byte) bool {
	k := min(len(b), len(sig))
	return bytes.Equal(b[:k], sig[:k])
}

func parseV1(b []byte) (int, Header, error) {
	h := Header{Version: 1, Transport: TransportStream}
	line := b[:min(len(b), MaxV1Bytes)]
	end := bytes.IndexByte(line, '\n')
	if end < 0 {
		if len(b) >= MaxV1Bytes {
			return 0, h, ErrTooLong
		}
		if i := bytes.IndexByte(line, '\r'); i >= 0 && i < len(line)-1 {
			return 0, h, ErrV1 // a CR not followed by LF
		}
		return 0, h, nil
	}
	if bytes.IndexByte(line[:end], '\r') != end-1 { // the line's only CR ends it
		return 0, h, ErrV1
	}
	n := end + 1
	f := line[len(sigV1) : end-1]
	proto, f := field(f)
	switch string(proto) {
	case "UNKNOWN":
		// The rest of the line (addresses or not) is to be ignored.
		h.Transport = TransportUnspec
		return n, h, nil
	case "TCP4":
		h.Family = FamilyIPv4
	case "TCP6":
		h.Family = FamilyIPv6
	default:
		return 0, h, ErrV1
	}
	src, f := field(f)
	dst, f := field(f)
	sport, f := field(f)
	dport, f := field(f)
	if f != nil {
		return 0, h, ErrV1 // more fields, or a trailing space
	}
	var sa, da netip.Addr
	var ok1, ok2 bool
	if h.Family == FamilyIPv4 {
		sa, ok1 = parseIPv4(src)
		da, ok2 = parseIPv4(dst)
	} else {
		sa, ok1 = parseIPv6(src)
		da, ok2 = parseIPv6(dst)
	}
	sp, ok3 := parsePort(sport)
	dp, ok4 := parsePort(dport)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, h, ErrV1
	}
	h.Source, h.Destination = netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp)
	return n, h, nil
}

// field cuts the next single-space-separated field from f; rest is nil after the
// last one. An empty field (two spaces, a leading space) comes back empty, which
// every caller rejects.
func field(f []byte) (v, rest []byte) {
	if f == nil {
		return nil, nil
	}
	i := bytes.IndexByte(f, ' ')
	if i < 0 {
		return f, nil
	}
	return f[:i], f[i+1:]
}

// parsePort reads a decimal port, 0-65535, without a sign and with at most 5 digits.
func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return uint16(v), v <= 0xffff
}

// parseIPv4 reads a dotted-quad address (no leading zeros, as netip.ParseAddr).
func parseIPv4(b []byte) (netip.Addr, bool) {
	var a [4]byte
	if !ipv4Into(b, &a) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(a), true
}

func ipv4Into(b []byte, a *[4]byte) bool {
	k, v, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || k == 4 {
				return false
			}
			a[k] = byte(v)
			k, v, digits = k+1, 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || (digits == 1 && v == 0) {
			return false // not a digit, or a leading zero
		}
		v = v*10 + int(c-'0')
		digits++
		if v > 255 {
			return false
		}
	}
	return k == 4
}

// parseIPv6 reads an IPv6 address in RFC 4291 text form ("::" once, an embedded
// dotted IPv4 last); zones are refused.
func parseIPv6(b []byte) (netip.Addr, bool) {
	var a [16]byte
	ellipsis := -1 // index in a where "::" stands
	i, k := 0, 0
	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis, i = 0, 2
		if len(b) == 2 {
			return netip.AddrFrom16(a), true
		}
	}
	for i < len(b) && k < 16 {
		// One group: up to 4 hex digits, or a dotted IPv4 in the last 4 bytes.
		v, j := 0, i
		for j < len(b) && j-i < 4 {
			d, ok := unhex(b[j])
			if !ok {
				break
			}
			v = v<<4 | d
			j++
		}
		if j < len(b) && b[j] == '.' {
			if k > 12 || bytes.IndexByte(b[i:], ':') >= 0 {
				return netip.Addr{}, false
			}
			var v4 [4]byte
			if !ipv4Into(b[i:], &v4) {
				return netip.Addr{}, false
			}
			copy(a[k:], v4[:])
			k += 4
			i = len(b)
			break
		}
		if j == i {
			return netip.Addr{}, false
		}
		a[k], a[k+1] = byte(v>>8), byte(v)
		k += 2
		i = j
		if i == len(b) {
			break
		}
		if b[i] != ':' {
			return netip.Addr{}, false
		}
		i++
		if i < len(b) && b[i] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = k
			i++
			if i == len(b) {
				break
			}
		} else if i == len(b) {
			return netip.Addr{}, false // a trailing single colon
		}
	}
	if i < len(b) {
		return netip.Addr{}, false
	}
	if k < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - k
		copy(a[ellipsis+n:], a[ellipsis:k])
		clear(a[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(a), true
}

func unhex(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

const (
	v2AddrIPv4 = 12
	v2AddrIPv6 = 36
	v2AddrUnix = 216
)

func (p *Parser) parseV2(b []byte) (int, Header, error) {
	h := Header{Version: 2}
	if len(b) < v2HeaderBytes {
		return 0, h, nil
	}
	verCmd, famProto := b[12], b[13]
	if verCmd>>4 != 2 {
		return 0, h, ErrV2
	}
	switch verCmd & 0xf {
	case 0:
		h.Command = CommandLocal
	case 1:
		h.Command = CommandProxy
	default:
		return 0, h, ErrV2
	}
	length := int(binary.BigEndian.Uint16(b[14:16]))
	limit := p.MaxV2Bytes
	if limit == 0 {
		limit = DefaultMaxV2Bytes
	}
	limit = max(limit, v2HeaderBytes+v2AddrUnix)
	if v2HeaderBytes+length > limit {
		return 0, h, ErrTooLong
	}
	var need int
	switch famProto >> 4 {
	case 0:
		h.Family = FamilyUnspec
	case 1:
		h.Family, need = FamilyIPv4, v2AddrIPv4
	case 2:
		h.Family, need = FamilyIPv6, v2AddrIPv6
	case 3:
		h.Family, need = FamilyUnix, v2AddrUnix
	default:
		return 0, h, ErrV2
	}
	switch famProto & 0xf {
	case 0:
		h.Transport = TransportUnspec
	case 1:
		h.Transport = TransportStream
	case 2:
		h.Transport = TransportDatagram
	default:
		return 0, h, ErrV2
	}
	if h.Command == CommandLocal {
		// The receiver must use the real endpoints and skip the block, whatever
		// family it claims.
		need = 0
		h.Family, h.Transport = FamilyUnspec, TransportUnspec
	}
	if length < need {
		return 0, h, ErrV2
	}
	n := v2HeaderBytes + length
	if len(b) < n {
		return 0, h, nil
	}
	block := b[v2HeaderBytes:n]
	switch {
	case h.Command == CommandLocal || h.Family == FamilyUnspec:
		return n, h, nil // no addresses; TLVs are not interpreted either
	case h.Family == FamilyIPv4:
		h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(block[0:4])), binary.BigEndian.Uint16(block[8:10]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom4([4]byte(block[4:8])), binary.BigEndian.Uint16(block[10:12]))
	case h.Family == FamilyIPv6:
		h.Source = netip.AddrPortFrom(netip.AddrFrom16([16]byte(block[0:16])), binary.BigEndian.Uint16(block[32:34]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom16([16]byte(block[16:32])), binary.BigEndian.Uint16(block[34:36]))
	case h.Family == FamilyUnix:
		h.SourcePath = cutNUL(block[0:108])
		h.DestinationPath = cutNUL(block[108:216])
	}
	h.TLVs = block[need:]
	for rest := h.TLVs; len(rest) > 0; {
		var ok bool
		if _, _, rest, ok = NextTLV(rest); !ok {
			return 0, h, ErrV2
		}
	}
	return n, h, nil
}

func cutNUL(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// NextTLV splits the first type-length-value record off tlvs (a Header's TLVs): its
// type, its value (aliasing tlvs) and the records after it. ok is false when tlvs is
// too short for the record it starts.
func NextTLV(tlvs []byte) (typ byte, value, rest []byte, ok bool) {
	if len(tlvs) < 3 {
		return 0, nil, nil, false
	}
	l := int(binary.BigEndian.Uint16(tlvs[1:3]))
	if len(tlvs) < 3+l {
		return 0, nil, nil, false
	}
	return tlvs[0], tlvs[3 : 3+l], tlvs[3+l:], true
}
