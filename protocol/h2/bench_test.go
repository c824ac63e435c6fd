package h2

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// BenchmarkDataFrame measures one 16 KiB request DATA frame through Feed and Consumed.
func BenchmarkDataFrame(b *testing.B) {
	p := newPeer(b, Config{}, whole, 1)
	p.c.h = nopHandler{}
	p.handshake()
	p.post(1, "/")
	p.fw.WriteData(1, false, make([]byte, 16384))
	frame := bytes.Clone(p.wbuf.Bytes())
	p.wbuf.Reset()
	out := make([]byte, 0, 4096)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		out, _, _ = p.c.Feed(out[:0], frame, p.now)
		out = p.c.Consumed(out[:0], 1, 16384)
	}
}

// BenchmarkRequestResponse measures a GET request (HEADERS in) and a small response
// (HEADERS + DATA out) on one connection, as the host drives it.
func BenchmarkRequestResponse(b *testing.B) {
	p := newPeer(b, Config{}, whole, 1)
	p.handshake()
	headers := asgi.H("content-type", "text/plain")
	body := []byte("Hello, World!")
	out := make([]byte, 0, 4096)
	var frames [][]byte
	id := uint32(1)
	next := func() []byte {
		if len(frames) == 0 {
			for i := 0; i < 1000; i++ {
				p.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, EndStream: true,
					BlockFragment: p.block(":method", "GET", ":scheme", "http", ":authority", "x", ":path", "/")})
				frames = append(frames, bytes.Clone(p.wbuf.Bytes()))
				p.wbuf.Reset()
				id += 2
			}
		}
		f := frames[0]
		frames = frames[1:]
		return f
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		in := next()
		b.StartTimer()
		out, _, _ = p.c.Feed(out[:0], in, p.now)
		sid := uint32(in[5])<<24 | uint32(in[6])<<16 | uint32(in[7])<<8 | uint32(in[8])
		out, _ = p.c.WriteHeaders(out, sid, 200, headers, false)
		out, _, _ = p.c.WriteData(out, sid, body, true)
		out = p.c.Release(out, sid)
		delete(p.h.reqs, sid)
	}
}
