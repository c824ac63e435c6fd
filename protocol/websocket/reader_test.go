package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

type frameCase struct {
	name    string
	deflate Deflate
	limit   int // MaxMessageSize; 0 = default
	in      []byte
	want    []got
	code    int // close code of the expected error, 0 for none
}

func msg(s string) got  { return got{Kind: EventMessage, Text: true, Data: s} }
func bmsg(s string) got { return got{Kind: EventMessage, Data: s} }

var (
	big16    = strings.Repeat("a", 300)
	big64    = strings.Repeat("b", 70000)
	kosme    = "κόσμε"
	on       = Deflate{Enabled: true}
	tooLarge = strings.Repeat("x", 2000)
)

func frameCases(t testing.TB) []frameCase {
	return []frameCase{
		// Framing.
		{name: "text", in: text("Hello"), want: []got{msg("Hello")}},
		{name: "binary", in: binary_("\x00\xff"), want: []got{bmsg("\x00\xff")}},
		{name: "empty text", in: text(""), want: []got{msg("")}},
		{name: "16-bit length", in: text(big16), want: []got{msg(big16)}},
		{name: "64-bit length", in: text(big64), want: []got{msg(big64)}},
		{name: "two messages", in: cat(text("a"), binary_("b")), want: []got{msg("a"), bmsg("b")}},
		{name: "unmasked", in: frameMask(ws.OpText, true, 0, []byte("x"), false), code: 1002},
		{name: "64-bit length with MSB", in: []byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, code: 1002},
		// Ping / pong.
		{name: "ping", in: frame(ws.OpPing, true, 0, []byte("hi")), want: []got{{Kind: EventPing, Data: "hi"}}},
		{name: "empty ping", in: frame(ws.OpPing, true, 0, nil), want: []got{{Kind: EventPing}}},
		{name: "ping 125", in: frame(ws.OpPing, true, 0, bytes.Repeat([]byte{'p'}, 125)), want: []got{{Kind: EventPing, Data: strings.Repeat("p", 125)}}},
		{name: "ping 126", in: frame(ws.OpPing, true, 0, bytes.Repeat([]byte{'p'}, 126)), code: 1002},
		{name: "fragmented ping", in: frame(ws.OpPing, false, 0, []byte("a")), code: 1002},
		{name: "unsolicited pong", in: frame(ws.OpPong, true, 0, []byte("x")), want: []got{{Kind: EventPong, Data: "x"}}},
		// Reserved bits.
		{name: "rsv1 without extension", in: frame(ws.OpText, true, 4, []byte("x")), code: 1002},
		{name: "rsv2", in: frame(ws.OpText, true, 2, []byte("x")), code: 1002},
		{name: "rsv3", in: frame(ws.OpText, true, 1, []byte("x")), code: 1002},
		{name: "rsv2 with deflate", deflate: on, in: frame(ws.OpText, true, 2, []byte("x")), code: 1002},
		{name: "rsv on ping", in: cat(text("ok"), frame(ws.OpPing, true, 7, nil)), want: []got{msg("ok")}, code: 1002},
		// Opcodes.
		{name: "opcode 3", in: frame(3, true, 0, nil), code: 1002},
		{name: "opcode 7", in: frame(7, true, 0, []byte("x")), code: 1002},
		{name: "opcode 11", in: frame(11, true, 0, nil), code: 1002},
		{name: "opcode 15", in: frame(15, true, 0, []byte("x")), code: 1002},
		{name: "reserved opcode after text", in: cat(text("a"), frame(5, true, 0, nil)), want: []got{msg("a")}, code: 1002},
		// Fragmentation.
		{name: "three fragments", in: cat(frame(ws.OpText, false, 0, []byte("fra")), frame(ws.OpContinuation, false, 0, []byte("gme")), frame(ws.OpContinuation, true, 0, []byte("nts"))), want: []got{msg("fragments")}},
		{name: "empty fragments", in: cat(frame(ws.OpBinary, false, 0, nil), frame(ws.OpContinuation, false, 0, nil), frame(ws.OpContinuation, true, 0, nil)), want: []got{bmsg("")}},
		{name: "ping between fragments", in: cat(frame(ws.OpText, false, 0, []byte("a")), frame(ws.OpPing, true, 0, []byte("p")), frame(ws.OpContinuation, true, 0, []byte("b"))), want: []got{{Kind: EventPing, Data: "p"}, msg("ab")}},
		{name: "pong between fragments", in: cat(frame(ws.OpBinary, false, 0, []byte("a")), frame(ws.OpPong, true, 0, nil), frame(ws.OpContinuation, true, 0, []byte("b"))), want: []got{{Kind: EventPong}, bmsg("ab")}},
		{name: "continuation without start", in: frame(ws.OpContinuation, true, 0, []byte("x")), code: 1002},
		{name: "text during fragmented message", in: cat(frame(ws.OpText, false, 0, []byte("a")), text("b")), code: 1002},
		{name: "continuation after finished message", in: cat(text("a"), frame(ws.OpContinuation, true, 0, []byte("b"))), want: []got{msg("a")}, code: 1002},
		// UTF-8.
		{name: "utf8 text", in: text(kosme), want: []got{msg(kosme)}},
		{name: "utf8 split across fragments", in: cat(frame(ws.OpText, false, 0, []byte(kosme[:3])), frame(ws.OpContinuation, false, 0, []byte(kosme[3:4])), frame(ws.OpContinuation, true, 0, []byte(kosme[4:]))), want: []got{msg(kosme)}},
		{name: "4-byte rune split bytewise in fragments", in: cat(frame(ws.OpText, false, 0, []byte("\xf0")), frame(ws.OpContinuation, false, 0, []byte("\x90")), frame(ws.OpContinuation, false, 0, []byte("\x80")), frame(ws.OpContinuation, true, 0, []byte("\x80"))), want: []got{msg("\U00010000")}},
		{name: "invalid utf8", in: text("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), code: 1007},
		{name: "invalid utf8 in first fragment fails fast", in: frame(ws.OpText, false, 0, []byte("ok\xffmore")), code: 1007},
		{name: "surrogate split across fragments", in: cat(frame(ws.OpText, false, 0, []byte("\xed")), frame(ws.OpContinuation, false, 0, []byte("\xa0\x80"))), code: 1007},
		{name: "truncated rune at message end", in: cat(frame(ws.OpText, false, 0, []byte("a\xce")), frame(ws.OpContinuation, true, 0, nil)), code: 1007},
		{name: "codepoint above U+10FFFF", in: text("\xf4\x90\x80\x80"), code: 1007},
		{name: "overlong encoding", in: text("\xc0\xaf"), code: 1007},
		{name: "invalid utf8 in binary is fine", in: binary_("\xff\xfe"), want: []got{bmsg("\xff\xfe")}},
		// Close handling.
		{name: "close 1000 with reason", in: closeFrame(1000, "bye"), want: []got{{Kind: EventClose, Code: 1000, Reason: "bye"}}},
		{name: "close empty", in: frame(ws.OpClose, true, 0, nil), want: []got{{Kind: EventClose, Code: 1005}}},
		{name: "close 1 byte", in: frame(ws.OpClose, true, 0, []byte{3}), code: 1002},
		{name: "close 3000", in: closeFrame(3000, ""), want: []got{{Kind: EventClose, Code: 3000}}},
		{name: "close 4999", in: closeFrame(4999, ""), want: []got{{Kind: EventClose, Code: 4999}}},
		{name: "close 1011", in: closeFrame(1011, ""), want: []got{{Kind: EventClose, Code: 1011}}},
		{name: "close 999", in: closeFrame(999, ""), code: 1002},
		{name: "close 1004", in: closeFrame(1004, ""), code: 1002},
		{name: "close 1005", in: closeFrame(1005, ""), code: 1002},
		{name: "close 1006", in: closeFrame(1006, ""), code: 1002},
		{name: "close 1015", in: closeFrame(1015, ""), code: 1002},
		{name: "close 1016", in: closeFrame(1016, ""), code: 1002},
		{name: "close 2999", in: closeFrame(2999, ""), code: 1002},
		{name: "close 5000", in: closeFrame(5000, ""), code: 1002},
		{name: "close 65535", in: closeFrame(65535, ""), code: 1002},
		{name: "close reason not utf8", in: closeFrame(1000, "\xff"), code: 1002},
		{name: "close reason 123 bytes", in: closeFrame(1000, strings.Repeat("r", 123)), want: []got{{Kind: EventClose, Code: 1000, Reason: strings.Repeat("r", 123)}}},
		{name: "close payload 126 bytes", in: closeFrame(1000, strings.Repeat("r", 124)), code: 1002},
		{name: "fragmented close", in: frame(ws.OpClose, false, 0, nil), code: 1002},
		{name: "input after close is ignored", in: cat(closeFrame(1001, ""), text("late"), []byte{0xff, 0xff}), want: []got{{Kind: EventClose, Code: 1001}}},
		{name: "close between fragments", in: cat(frame(ws.OpText, false, 0, []byte("a")), closeFrame(1000, "")), want: []got{{Kind: EventClose, Code: 1000}}},
		// Limits.
		{name: "frame over limit", limit: 1000, in: text(tooLarge), code: 1009},
		{name: "frame over limit fails at header", limit: 1000, in: text(tooLarge)[:8], code: 1009},
		{name: "message over limit by fragments", limit: 1000, in: cat(frame(ws.OpBinary, false, 0, []byte(tooLarge[:600])), frame(ws.OpContinuation, true, 0, []byte(tooLarge[:600]))), code: 1009},
		{name: "message at limit", limit: 1000, in: cat(frame(ws.OpBinary, false, 0, []byte(tooLarge[:600])), frame(ws.OpContinuation, true, 0, []byte(tooLarge[:400]))), want: []got{bmsg(tooLarge[:1000])}},
		// permessage-deflate.
		{name: "compressed text", deflate: on, in: frame(ws.OpText, true, 4, deflateRaw(t, []byte(big64))), want: []got{msg(big64)}},
		{name: "compressed binary", deflate: on, in: frame(ws.OpBinary, true, 4, deflateRaw(t, []byte("\x00\x01\x02"))), want: []got{bmsg("\x00\x01\x02")}},
		{name: "compressed empty", deflate: on, in: frame(ws.OpText, true, 4, deflateRaw(t, nil)), want: []got{msg("")}},
		{name: "uncompressed with deflate on", deflate: on, in: text("plain"), want: []got{msg("plain")}},
		{name: "compressed fragments", deflate: on, in: compressedFragments(t, kosme+big16, 7), want: []got{msg(kosme + big16)}},
		{name: "rsv1 on continuation", deflate: on, in: cat(frame(ws.OpText, false, 0, []byte("a")), frame(ws.OpContinuation, true, 4, []byte("b"))), code: 1002},
		{name: "rsv1 on ping", deflate: on, in: frame(ws.OpPing, true, 4, nil), code: 1002},
		{name: "compressed invalid utf8", deflate: on, in: frame(ws.OpText, true, 4, deflateRaw(t, []byte("a\xff"))), code: 1007},
		{name: "compressed garbage", deflate: on, in: frame(ws.OpBinary, true, 4, []byte{0xff, 0xff, 0xff, 0xff}), code: 1007},
		{name: "compression bomb", deflate: on, limit: 1 << 16, in: frame(ws.OpBinary, true, 4, deflateRaw(t, make([]byte, 1<<20))), code: 1009},
		{name: "decompressed exactly at limit", deflate: on, limit: 4096, in: frame(ws.OpBinary, true, 4, deflateRaw(t, make([]byte, 4096))), want: []got{bmsg(string(make([]byte, 4096)))}},
	}
}

// compressedFragments compresses s and sends it in fragments of size n (RSV1 on the
// first only).
func compressedFragments(t testing.TB, s string, n int) []byte {
	p := deflateRaw(t, []byte(s))
	var out []byte
	for i := 0; i < len(p); i += n {
		op, rsv := ws.OpContinuation, byte(0)
		if i == 0 {
			op, rsv = ws.OpText, 4
		}
		out = append(out, frame(op, i+n >= len(p), rsv, p[i:min(i+n, len(p))])...)
	}
	return out
}

func TestReaderFrames(t *testing.T) {
	for _, tc := range frameCases(t) {
		for _, mode := range feedModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				cfg := Config{MaxMessageSize: tc.limit}.Normalize()
				r := NewReader(&cfg, tc.deflate)
				rng := rand.New(rand.NewPCG(1, uint64(len(tc.in))))
				events, code := drive(t, r, mode.split(rng, bytes.Clone(tc.in)))
				if code != tc.code {
					t.Fatalf("close code %d, want %d (events %v)", code, tc.code, events)
				}
				if !reflect.DeepEqual(events, tc.want) && (len(events) > 0 || len(tc.want) > 0) {
					t.Fatalf("events\n got %v\nwant %v", events, tc.want)
				}
			})
		}
	}
}

// TestReaderFramesInSlices runs every frame case with inflation in slices of a few
// bytes (EventYield between them, which drive skips): the events are the same.
func TestReaderFramesInSlices(t *testing.T) {
	for _, tc := range frameCases(t) {
		for _, mode := range feedModes {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				cfg := Config{MaxMessageSize: tc.limit, CompressionSlice: 7}.Normalize()
				r := NewReader(&cfg, tc.deflate)
				rng := rand.New(rand.NewPCG(1, uint64(len(tc.in))))
				events, code := drive(t, r, mode.split(rng, bytes.Clone(tc.in)))
				if code != tc.code {
					t.Fatalf("close code %d, want %d (events %v)", code, tc.code, events)
				}
				if !reflect.DeepEqual(events, tc.want) && (len(events) > 0 || len(tc.want) > 0) {
					t.Fatalf("events\n got %v\nwant %v", events, tc.want)
				}
			})
		}
	}
}

// TestReaderPooled runs every frame case with the Reader exchanged between reads
// whenever it is Idle, as connections share pooled readers: a Reset reader that last
// served another connection must behave as a new one.
func TestReaderPooled(t *testing.T) {
	for _, tc := range frameCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{MaxMessageSize: tc.limit}.Normalize()
			other := Config{MaxMessageSize: 1 << 10}.Normalize()
			spare := NewReader(&other, Deflate{Enabled: !tc.deflate.Enabled})
			// The spare has served a connection of its own, with other limits.
			drive(t, spare, [][]byte{cat(text("someone else"), frame(ws.OpBinary, false, 0, []byte("x")), frame(ws.OpContinuation, true, 0, nil))})
			swaps := 0
			swap := func(r *Reader) *Reader {
				swaps++
				spare.Reset(&cfg, tc.deflate)
				r, spare = spare, r
				return r
			}
			rng := rand.New(rand.NewPCG(2, uint64(len(tc.in))))
			events, code := drivePooled(t, NewReader(&cfg, tc.deflate), feedModes[2].split(rng, bytes.Clone(tc.in)), swap)
			if code != tc.code {
				t.Fatalf("close code %d, want %d (events %v)", code, tc.code, events)
			}
			if !reflect.DeepEqual(events, tc.want) && (len(events) > 0 || len(tc.want) > 0) {
				t.Fatalf("events\n got %v\nwant %v", events, tc.want)
			}
			if swaps == 0 {
				t.Fatal("the reader was never idle between reads")
			}
		})
	}
}

func TestReaderIdle(t *testing.T) {
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, Deflate{})
	if !r.Idle() {
		t.Fatal("new reader not idle")
	}
	for _, step := range []struct {
		in   []byte
		idle bool
	}{
		{text("whole"), true},
		{text("split")[:8], false},                             // inside a frame
		{text("split")[8:], true},                              // its end
		{frame(ws.OpBinary, false, 0, []byte("a")), false},     // fragmented message
		{frame(ws.OpContinuation, true, 0, []byte("b")), true}, // message complete
		{closeFrame(1000, ""), false},                          // closed for good
	} {
		drive(t, r, [][]byte{step.in})
		if r.Idle() != step.idle {
			t.Fatalf("after %x: Idle() = %v", step.in, r.Idle())
		}
	}
	takeover := NewReader(&cfg, Deflate{Enabled: true, ClientContextTakeover: true})
	drive(t, takeover, [][]byte{frame(ws.OpText, true, 4, deflateRaw(t, []byte("history")))})
	if takeover.Idle() {
		t.Fatal("a reader holding compression history reported idle")
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, Deflate{})
	in := frame(3, true, 0, nil)
	if _, _, err := r.Feed(in); err == nil {
		t.Fatal("reserved opcode accepted")
	}
	if n, _, err := r.Feed(text("x")); err == nil || n != 0 {
		t.Fatalf("Feed after error: n=%d err=%v", n, err)
	}
}

func TestReaderContextTakeover(t *testing.T) {
	cfg := Config{ClientContextTakeover: true}.Normalize()
	r := NewReader(&cfg, Deflate{Enabled: true, ClientContextTakeover: true})
	// A client keeping its window: the second message references the first.
	var buf bytes.Buffer
	fw, _ := flateWriter(&buf)
	var in []byte
	for _, m := range []string{big16 + "first", big16 + "second", big16 + "third"} {
		buf.Reset()
		fw.Write([]byte(m))
		fw.Flush()
		p := bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
		in = append(in, frame(ws.OpText, true, 4, p)...)
	}
	events, code := drive(t, r, [][]byte{in})
	want := []got{msg(big16 + "first"), msg(big16 + "second"), msg(big16 + "third")}
	if code != 0 || !reflect.DeepEqual(events, want) {
		t.Fatalf("code %d events %v", code, events)
	}
}

// TestReaderLargeMessageLinear feeds a 32 MiB message in 4 KiB reads, as a socket
// delivers it: every Feed call must consume its whole input, so the total work stays
// linear (a quadratic parser re-scans the growing buffer on every read).
func TestReaderLargeMessageLinear(t *testing.T) {
	const size = 32 << 20
	cfg := Config{MaxMessageSize: size}.Normalize()
	r := NewReader(&cfg, Deflate{})
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	in := frame(ws.OpBinary, true, 0, payload)
	scanned := 0
	var pending []byte
	var data []byte
	for off := 0; off < len(in); off += 4096 {
		pending = append(pending, in[off:min(off+4096, len(in))]...)
		for {
			scanned += len(pending)
			n, ev, err := r.Feed(pending)
			if err != nil {
				t.Fatal(err)
			}
			pending = pending[n:]
			if ev.Kind == EventMessage {
				data = ev.Data
			}
			if ev.Kind == EventNone {
				break
			}
		}
	}
	if !bytes.Equal(data, payload) {
		t.Fatalf("message of %d bytes differs", len(data))
	}
	if scanned > 2*len(in) {
		t.Fatalf("scanned %d bytes for a %d-byte frame: not linear", scanned, len(in))
	}
}

// growthCost feeds in to a fresh Reader in reads of at most read bytes and returns
// the delivered messages and the sum of the message buffer's capacities each time it
// was regrown: the bytes allocated for, and at most copied into, reassembly.
func growthCost(t *testing.T, cfg *Config, in []byte, read int) (msgs [][]byte, cost int) {
	t.Helper()
	r := NewReader(cfg, Deflate{})
	last := cap(r.msg)
	for off := 0; off < len(in); {
		n, ev, err := r.Feed(in[off:min(off+read, len(in))])
		if err != nil {
			t.Fatalf("at byte %d: %v", off, err)
		}
		if c := cap(r.msg); c != last {
			cost, last = cost+c, c
		}
		if ev.Kind == EventMessage {
			msgs = append(msgs, bytes.Clone(ev.Data))
		}
		if n == 0 && ev.Kind == EventNone {
			if off+read >= len(in) {
				t.Fatalf("stuck at byte %d of %d", off, len(in))
			}
			read *= 2 // a frame header split by the read: hand over more
			continue
		}
		off += n
	}
	return msgs, cost
}

// TestReaderFragmentsCostLikeOneFrame reassembles a message sent as 64-byte fragments
// and the same message as one frame read 64 bytes at a time: growing the buffer
// once per fragment to its exact new size copied the whole message per fragment
// (quadratic), geometric growth keeps both within a small factor of the message size.
func TestReaderFragmentsCostLikeOneFrame(t *testing.T) {
	const size = 1 << 20
	cfg := Config{}.Normalize()
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	one := frame(ws.OpBinary, true, 0, payload)
	frags := fragmentedMessage(size, 64)
	msgs1, cost1 := growthCost(t, &cfg, one, 64)
	msgsN, costN := growthCost(t, &cfg, frags, 64+6)
	if len(msgs1) != 1 || len(msgsN) != 1 || !bytes.Equal(msgs1[0], payload) || !bytes.Equal(msgsN[0], payload) {
		t.Fatalf("messages: %d and %d", len(msgs1), len(msgsN))
	}
	t.Logf("buffer growth for %d bytes: one frame %d, 64-byte fragments %d", size, cost1, costN)
	if cost1 > 3*size || costN > 3*size || costN > 2*cost1 {
		t.Fatalf("buffer growth for a %d-byte message: one frame %d bytes, 64-byte fragments %d", size, cost1, costN)
	}
}

// TestReaderDefaultLimitIn64ByteFragments sends a message of exactly the default
// limit (16 MiB) as 64-byte fragments: it is delivered whole, nothing is closed, and
// the buffer never grows beyond the limit.
func TestReaderDefaultLimitIn64ByteFragments(t *testing.T) {
	cfg := Config{}.Normalize()
	size := cfg.MaxMessageSize
	in := fragmentedMessage(size, 64)
	r := NewReader(&cfg, Deflate{})
	var got []byte
	for off := 0; off < len(in); {
		n, ev, err := r.Feed(in[off:])
		if err != nil {
			t.Fatalf("at byte %d of %d: %v", off, len(in), err)
		}
		if ev.Kind == EventMessage {
			got = ev.Data
		}
		if n == 0 && ev.Kind == EventNone {
			t.Fatalf("stuck at byte %d of %d", off, len(in))
		}
		off += n
	}
	if len(got) != size || cap(got) > size || !bytes.Equal(got[:16], []byte("0123456789abcdef")) {
		t.Fatalf("message of %d bytes (capacity %d), want %d", len(got), cap(got), size)
	}
}

func TestReaderReleasesLargeBuffers(t *testing.T) {
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, Deflate{})
	p := make([]byte, 1<<20)
	in := cat(frame(ws.OpBinary, false, 0, p), frame(ws.OpContinuation, true, 0, nil))
	if events, code := drive(t, r, [][]byte{in}); code != 0 || len(events) != 1 {
		t.Fatalf("code %d events %d", code, len(events))
	}
	if cap(r.msg) > retainSize {
		t.Fatalf("idle reader keeps %d bytes", cap(r.msg))
	}
}

func TestReaderFeedAllocs(t *testing.T) {
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, Deflate{})
	in := text("Hello, WebSocket!")
	buf := make([]byte, len(in))
	allocs := testing.AllocsPerRun(1000, func() {
		copy(buf, in)
		n, ev, err := r.Feed(buf)
		if err != nil || n != len(buf) || ev.Kind != EventMessage {
			t.Fatalf("n=%d ev=%v err=%v", n, ev.Kind, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Feed of a small text frame allocates %v times", allocs)
	}
}

func TestParseHeaderLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		f := frame(ws.OpBinary, true, 0, make([]byte, n))
		h, hn, err := parseHeader(f)
		if err != nil || h.Length != int64(n) || hn+n != len(f) || !h.Masked {
			t.Fatalf("len %d: header %+v hn %d err %v", n, h, hn, err)
		}
		for cut := range hn {
			if _, k, _ := parseHeader(f[:cut]); k != 0 {
				t.Fatalf("len %d: partial header of %d bytes parsed", n, cut)
			}
		}
	}
	_ = binary.BigEndian
}

// TestReaderInflatesInSlices inflates a 1 MiB message whose 1 KiB of compressed input
// arrives whole, byte by byte and in random chunks: no Feed call inflates more than
// CompressionSlice, the slices in between are EventYield, the caller may reuse its
// input buffer after each call (the Reader keeps the compressed rest), and the
// message comes out whole.
func TestReaderInflatesInSlices(t *testing.T) {
	const size, slice = 1 << 20, 64 << 10
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	in := frame(ws.OpText, true, 4, deflateRaw(t, payload))
	for _, mode := range feedModes {
		t.Run(mode.name, func(t *testing.T) {
			cfg := Config{CompressionSlice: slice}.Normalize()
			r := NewReader(&cfg, on)
			rng := rand.New(rand.NewPCG(3, 4))
			var pending, got []byte
			yields, total := 0, 0
			for _, chunk := range mode.split(rng, bytes.Clone(in)) {
				pending = append(pending, chunk...)
				for {
					n, ev, err := r.Feed(pending)
					if err != nil {
						t.Fatal(err)
					}
					inflated := r.TakeInflated()
					total += inflated
					if inflated > slice {
						t.Fatalf("one Feed call inflated %d bytes (slice %d)", inflated, slice)
					}
					// The caller reuses its buffer: what Feed consumed is gone.
					clear(pending[:n])
					pending = pending[n:]
					if ev.Kind == EventMessage {
						got = bytes.Clone(ev.Data)
					}
					if ev.Kind == EventYield {
						if r.Idle() {
							t.Fatal("a Reader in the middle of a message reports Idle")
						}
						yields++
						continue
					}
					if ev.Kind == EventNone {
						break
					}
				}
			}
			if !bytes.Equal(got, payload) || total != size {
				t.Fatalf("message of %d bytes (inflated %d), want %d", len(got), total, size)
			}
			if yields != size/slice-1 && yields != size/slice {
				t.Fatalf("%d yields for %d bytes in %d-byte slices", yields, size, slice)
			}
			if !r.Idle() {
				t.Fatal("Reader not idle after the message")
			}
		})
	}
}

// TestReaderBombStopsAtLimit sends 16 KiB that inflate to 16 MiB against a 1 MiB
// limit: the connection fails with 1009 once the output passes the limit, having
// inflated no more than the limit plus one slice.
func TestReaderBombStopsAtLimit(t *testing.T) {
	const limit = 1 << 20
	cfg := Config{MaxMessageSize: limit}.Normalize()
	r := NewReader(&cfg, on)
	in := frame(ws.OpBinary, true, 4, deflateRaw(t, make([]byte, 16<<20)))
	total := 0
	for {
		_, ev, err := r.Feed(in)
		total += r.TakeInflated()
		if err != nil {
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != CloseMessageTooBig {
				t.Fatalf("error %v, want 1009", err)
			}
			break
		}
		if ev.Kind != EventYield {
			t.Fatalf("event %v before the limit was crossed", ev.Kind)
		}
		in = nil
	}
	if total > limit+cfg.CompressionSlice+1 {
		t.Fatalf("inflated %d bytes of a bomb against a %d-byte limit", total, limit)
	}
	t.Logf("compressed %d bytes; inflated %d before failing with 1009", len(frame(ws.OpBinary, true, 4, deflateRaw(t, make([]byte, 16<<20)))), total)
}

func TestReaderCompressedFeedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	cfg := Config{}.Normalize()
	r := NewReader(&cfg, on)
	in := frame(ws.OpText, true, 4, deflateRaw(t, []byte("Hello, compressed WebSocket! Hello, compressed WebSocket!")))
	buf := make([]byte, len(in))
	allocs := testing.AllocsPerRun(1000, func() {
		copy(buf, in)
		n, ev, err := r.Feed(buf)
		if err != nil || n != len(buf) || ev.Kind != EventMessage {
			t.Fatalf("n=%d ev=%v err=%v", n, ev.Kind, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Feed of a small compressed frame allocates %v times", allocs)
	}
}
