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
