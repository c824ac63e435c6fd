package websocket

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// readServerFrame decodes one unmasked frame with gobwas/ws.
func readServerFrame(t *testing.T, b []byte) ws.Frame {
	t.Helper()
	f, err := ws.ReadFrame(bytes.NewReader(b)) //lint:ignore SA1019 b is the Writer's output, already in memory
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAppendFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		p := bytes.Repeat([]byte{'z'}, n)
		b := AppendFrame([]byte("prefix"), ws.OpBinary, true, p)
		f := readServerFrame(t, b[len("prefix"):])
		if f.Header.OpCode != ws.OpBinary || !f.Header.Fin || f.Header.Masked || !bytes.Equal(f.Payload, p) {
			t.Fatalf("len %d: frame %+v", n, f.Header)
		}
	}
}

func TestAppendClose(t *testing.T) {
	tests := []struct {
		code   int
		reason string
		want   []byte
	}{
		{0, "", ws.CompiledCloseNormalClosure},
		{1001, "", ws.CompiledCloseGoingAway},
		{1005, "ignored", ws.CompiledClose},
		{4000, "custom", append([]byte{0x88, 8, 0x0f, 0xa0}, "custom"...)},
	}
	for _, tt := range tests {
		if got := AppendClose(nil, tt.code, tt.reason); !bytes.Equal(got, tt.want) {
			t.Fatalf("AppendClose(%d, %q) = %x, want %x", tt.code, tt.reason, got, tt.want)
		}
	}
	long := strings.Repeat("é", 100) // 200 bytes
	f := readServerFrame(t, AppendClose(nil, 1000, long))
	if f.Header.Length > 125 || !strings.HasPrefix(long, string(f.Payload[2:])) || len(f.Payload[2:])%2 != 0 {
		t.Fatalf("long reason not cut at a rune boundary: %d bytes", f.Header.Length)
	}
}

func TestWriterCompression(t *testing.T) {
	cfg := Config{CompressionThreshold: 10}.Normalize()
	w := NewWriter(&cfg, Deflate{Enabled: true})
	payload := []byte(strings.Repeat("compress me ", 1000))
	b, err := w.AppendMessage([]byte("x"), true, payload)
	if err != nil {
		t.Fatal(err)
	}
	f := readServerFrame(t, b[1:])
	if f.Header.OpCode != ws.OpText || !f.Header.Rsv1() || len(f.Payload) >= len(payload) {
		t.Fatalf("header %+v, %d bytes", f.Header, len(f.Payload))
	}
	plain, err := wsflate.DefaultHelper.Decompress(f.Payload)
	if err != nil || !bytes.Equal(plain, payload) {
		t.Fatalf("decompress: %v", err)
	}
	small, _ := w.AppendMessage(nil, false, []byte("tiny"))
	if f := readServerFrame(t, small); f.Header.Rsv1() || string(f.Payload) != "tiny" {
		t.Fatalf("message under threshold compressed: %+v", f.Header)
	}
	off := NewWriter(&cfg, Deflate{})
	if b, _ := off.AppendMessage(nil, true, payload); readServerFrame(t, b).Header.Rsv1() {
		t.Fatal("compressed without negotiation")
	}
}

// TestWriterReaderCompressedRoundTrip sends compressed messages through a Reader
// (server frames are unmasked, so they are masked here as a client would).
func TestWriterReaderCompressedRoundTrip(t *testing.T) {
	cfg := Config{CompressionThreshold: -1}.Normalize()
	w := NewWriter(&cfg, Deflate{Enabled: true})
	r := NewReader(&cfg, Deflate{Enabled: true})
	for _, m := range []string{"", "a", strings.Repeat("ab", 40000)} {
		b, _ := w.AppendMessage(nil, true, []byte(m))
		f := readServerFrame(t, b)
		in := frame(ws.OpText, true, 4, f.Payload)
		events, code := drive(t, r, [][]byte{in})
		if code != 0 || len(events) != 1 || events[0].Data != m {
			t.Fatalf("round trip of %d bytes: code %d events %v", len(m), code, events)
		}
	}
}

func TestCompressAllocsPooled(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	cfg := Config{CompressionThreshold: -1}.Normalize()
	w := NewWriter(&cfg, Deflate{Enabled: true})
	payload := []byte(strings.Repeat("pool ", 200))
	dst := make([]byte, 0, 4096)
	w.AppendMessage(dst, true, payload) // warm the pool
	allocs := testing.AllocsPerRun(100, func() { _, _ = w.AppendMessage(dst[:0], true, payload) })
	if allocs > 2 {
		t.Fatalf("compressing with a pooled compressor allocates %v times", allocs)
	}
}
