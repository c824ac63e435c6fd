// Package proxyproto is asgo's PROXY protocol layer without I/O: a parser of the
// header an L4 load balancer (haproxy's send-proxy / send-proxy-v2, AWS NLB, ...)
// puts in front of a connection's first byte to tell the server the original
// client's and server's addresses. It owns nothing but the parsing: which peers may
// send a header, the timeout and what a connection does with the addresses belong to
// the event loop.
//
// Both versions of haproxy's specification (proxy-protocol.txt) are read:
//
//   - v1, text: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN...\r\n",
//     at most 107 bytes with the CRLF. UNKNOWN carries no addresses: the receiver
//     keeps the socket's.
//   - v2, binary: a 12-byte signature, version/command, family/transport, a 16-bit
//     big-endian length, then the address block (IPv4 12 bytes, IPv6 36, Unix 216) and
//     TLVs up to the length. The LOCAL command (health checks of the proxy itself)
//     and the UNSPEC family carry no addresses either. TLVs are checked to be well
//     formed (each fits in the header) and otherwise skipped; Header.TLVs gives
//     them raw to a caller that wants them. The length is capped (Parser.MaxV2Bytes).
//
// Parse looks at the unconsumed input from its first byte each time (a header is at
// most a few hundred bytes) and keeps no state, so it can be fed whole, byte by byte
// or in any chunks. It rejects input as soon as its first bytes cannot start either
// signature: a client that does not speak the protocol is told at once, without
// waiting for 107 bytes. It does not allocate.
package proxyproto
