package h2

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// respondingHandler answers every request at once, so fuzzed input also drives the
// response paths; it never calls the Conn from inside a callback (it queues).
type respondingHandler struct {
	recorder
	todo []uint32
}

func (h *respondingHandler) OnRequest(id uint32, req *Request) { h.todo = append(h.todo, id) }

// FuzzConn feeds arbitrary bytes after a valid handshake, in chunk sizes taken from the
// input, and checks that the Conn neither panics nor writes malformed frames.
func FuzzConn(f *testing.F) {
	seed := func(write func(fw *http2.Framer, p *peer)) []byte {
		p := newPeer(f, Config{}, whole, 1)
		write(p.fw, p)
		return bytes.Clone(p.wbuf.Bytes())
	}
	f.Add(byte(7), seed(func(fw *http2.Framer, p *peer) {
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(":method", "POST", ":scheme", "http", ":path", "/", "content-length", "3"), EndHeaders: true})
		fw.WriteData(1, true, []byte("abc"))
	}))
	f.Add(byte(1), seed(func(fw *http2.Framer, p *peer) {
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(":method", "GET")})
		fw.WriteContinuation(1, true, p.block(":scheme", "http", ":path", "/"))
		fw.WritePing(false, [8]byte{1})
		fw.WriteWindowUpdate(0, 100)
		fw.WriteRSTStream(1, ErrCodeCancel)
	}))
	f.Add(byte(200), seed(func(fw *http2.Framer, p *peer) {
		fw.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: p.block(":method", "GET", ":scheme", "http", ":path", "/"), EndStream: true, EndHeaders: true})
		fw.WritePriority(3, http2.PriorityParam{StreamDep: 3})
		fw.WriteGoAway(0, ErrCodeNo, nil)
	}))
	f.Add(byte(3), seed(func(fw *http2.Framer, p *peer) { // empty frames (CVE-2019-9518)
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, PadLength: 4})
		fw.WriteContinuation(1, false, nil)
		fw.WriteContinuation(1, true, p.block(":method", "POST", ":scheme", "http", ":path", "/", "content-length", "1"))
		fw.WriteData(1, false, nil)
		fw.WriteData(1, false, []byte("ab"))
		fw.WriteData(1, false, nil)
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1})
		fw.WriteContinuation(1, true, nil)
	}))
	f.Add(byte(5), seed(func(fw *http2.Framer, p *peer) { // extended CONNECT (RFC 8441)
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: p.block(":method", "CONNECT",
			":protocol", "websocket", ":scheme", "http", ":authority", "a", ":path", "/ws", "sec-websocket-version", "13")})
		fw.WriteData(1, false, []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2})
		fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true, BlockFragment: p.block(":method", "CONNECT",
			":protocol", "websocket", ":authority", "a")})
		fw.WriteRSTStream(1, ErrCodeCancel)
	}))
	f.Fuzz(func(t *testing.T, chunk byte, input []byte) {
		h := &respondingHandler{recorder: *newRecorder()}
		p := newPeer(t, Config{MaxControlFrames: 100000}, randomChunks, uint64(chunk))
		p.c.h = h
		p.handshake()
		p.out = p.out[:0]
		step := int(chunk%64) + 1
		for off := 0; off < len(input) && p.err == nil; off += step {
			p.wbuf.Write(input[off:min(off+step, len(input))])
			p.flush()
			for _, id := range h.todo {
				p.out, _ = p.c.WriteInformational(p.out, id, 103, asgi.H("link", "</a>; rel=preload"))
				p.out, _ = p.c.WriteHeaders(p.out, id, 200, asgi.H("x", "y"), false)
				p.out, _, _ = p.c.WriteData(p.out, id, []byte("body"), true)
				p.out = p.c.Consumed(p.out, id, 1<<20)
				p.out = p.c.Release(p.out, id)
			}
			h.todo = h.todo[:0]
		}
		for p.next() != nil { // every frame we wrote must parse
		}
	})
}
