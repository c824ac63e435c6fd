// Package h2 is asgo's HTTP/2 protocol engine (RFC 9113) without I/O: the connection and
// stream state machines, flow control both ways, HPACK, request validation and the
// server-side defences against HTTP/2 denial-of-service attacks.
//
// It is built on golang.org/x/net/http2's Framer (frame parsing and encoding) and hpack;
// it does not use http2.Server. Bytes go in through (*Conn).Feed, events come out through
// a Handler, and every frame the connection produces is appended to a caller-given []byte.
// The package starts no goroutines, touches no sockets and never reads the clock: times
// are passed in.
//
// # Locking
//
// A Conn is not safe for concurrent use. The host (eventloop) guards each Conn with one
// mutex per connection and holds it around every call: Feed on the loop goroutine, the
// response methods (WriteHeaders, WriteData, WriteTrailers, Reset, Consumed, Release) on
// application goroutines. Handler methods are called synchronously from inside Feed,
// with that mutex held: they must not block and must not call back into the Conn.
//
// All output of one Conn forms one ordered byte stream: HPACK encoding and the queueing
// of the encoded frames happen under the same lock, so callers must append every call's
// output to the same buffer (or drain their buffers in call order).
//
// # Defences
//
// Every limit is bounded by default (see Config): concurrent streams (REFUSED_STREAM
// beyond), a reset budget against Rapid Reset (CVE-2023-44487) and server-provoked resets
// (MadeYouReset) ending in GOAWAY ENHANCE_YOUR_CALM, the header-list limit against
// CONTINUATION floods (CVE-2024-27316) and HPACK bombs (431), a control-frame budget
// against PING, SETTINGS and empty-frame floods (CVE-2019-9518: DATA without
// END_STREAM, also on reset streams, and empty header-block fragments), and
// FRAME_SIZE_ERROR for oversized frames. Inbound memory is bounded by the receive windows, which are only re-opened as
// the application consumes the body (Consumed).
package h2
