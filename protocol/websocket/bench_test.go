package websocket

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

func benchFeed(b *testing.B, payload []byte, chunk int) {
	cfg := Config{MaxMessageSize: 64 << 20}.Normalize()
	r := NewReader(&cfg, Deflate{})
	in := frame(ws.OpBinary, true, 0, payload)
	buf := make([]byte, len(in))
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, in)
		for off := 0; off < len(buf); {
			end := min(off+chunk, len(buf))
			n, _, err := r.Feed(buf[off:end])
			if err != nil {
				b.Fatal(err)
			}
			off += n
			if n == 0 && end == len(buf) {
				b.Fatal("stuck")
			}
			if n == 0 { // header split: hand over more bytes
				end = min(end+ws.MaxHeaderSize, len(buf))
				n, _, _ = r.Feed(buf[off:end])
				off += n
			}
		}
	}
}

func BenchmarkFeedSmallText(b *testing.B) { benchFeed(b, []byte("Hello, WebSocket!"), 1<<20) }
func BenchmarkFeed64KiB(b *testing.B)     { benchFeed(b, bytes.Repeat([]byte("x"), 64<<10), 1<<20) }
func BenchmarkFeed16MiBIn64KiBReads(b *testing.B) {
	benchFeed(b, bytes.Repeat([]byte("x"), 16<<20), 64<<10)
}

func BenchmarkFeedCompressed64KiB(b *testing.B) {
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, Deflate{Enabled: true})
	payload := bytes.Repeat([]byte("compressible text "), 64<<10/18)
	in := frame(ws.OpText, true, 4, deflateRaw(b, payload))
	buf := make([]byte, len(in))
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, in)
		if _, ev, err := r.Feed(buf); err != nil || ev.Kind != EventMessage {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	for _, tc := range []struct {
		name     string
		deflate  bool
		size     int
		minBytes int
	}{
		{"plain-64B", false, 64, 0},
		{"plain-64KiB", false, 64 << 10, 0},
		{"deflate-64KiB", true, 64 << 10, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{}.Normalize()
			w := NewWriter(&cfg, Deflate{Enabled: tc.deflate})
			payload := bytes.Repeat([]byte("compressible text "), tc.size/18+1)[:tc.size]
			dst := make([]byte, 0, tc.size+16)
			b.SetBytes(int64(tc.size))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = w.AppendMessage(dst[:0], true, payload)
			}
		})
	}
}

// fragmentedMessage is a binary message of size bytes sent as masked frag-byte
// fragments (frag <= 125, so each header is 6 bytes), built without ws's writer so
// that a 16 MiB message takes little test time.
func fragmentedMessage(size, frag int) []byte {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	out := make([]byte, 0, size+(size/frag+1)*6)
	for off := 0; off < size; off += frag {
		end := min(off+frag, size)
		b0 := byte(ws.OpContinuation)
		if off == 0 {
			b0 = byte(ws.OpBinary)
		}
		if end == size {
			b0 |= 0x80
		}
		out = append(out, b0, 0x80|byte(end-off))
		out = append(out, mask[:]...)
		start := len(out)
		out = append(out, payload[off:end]...)
		ws.Cipher(out[start:], mask, 0)
	}
	return out
}

// BenchmarkFeed4MiBIn64ByteFragments is the reassembly of many small fragments: its
// cost must stay linear in the message size, like one frame's.
func BenchmarkFeed4MiBIn64ByteFragments(b *testing.B) {
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, Deflate{})
	in := fragmentedMessage(4<<20, 64)
	buf := make([]byte, len(in))
	b.SetBytes(4 << 20)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, in)
		events := 0
		for off := 0; off < len(buf); {
			n, ev, err := r.Feed(buf[off:])
			if err != nil {
				b.Fatal(err)
			}
			off += n
			if ev.Kind == EventMessage {
				events++
			}
		}
		if events != 1 {
			b.Fatalf("%d messages", events)
		}
	}
}
