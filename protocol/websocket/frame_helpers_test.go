package websocket

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gobwas/ws"
)

// frame builds a masked client frame; rsv is the three reserved bits (4 = RSV1).
func frame(op ws.OpCode, fin bool, rsv byte, payload []byte) []byte {
	return frameMask(op, fin, rsv, payload, true)
}

func frameMask(op ws.OpCode, fin bool, rsv byte, payload []byte, masked bool) []byte {
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(len(payload)), Masked: masked}
	if masked {
		h.Mask = [4]byte{0x37, 0xfa, 0x21, 0x3d}
	}
	var buf bytes.Buffer
	if err := ws.WriteHeader(&buf, h); err != nil {
		panic(err)
	}
	p := bytes.Clone(payload)
	if masked {
		ws.Cipher(p, h.Mask, 0)
	}
	buf.Write(p)
	return buf.Bytes()
}

func text(s string) []byte    { return frame(ws.OpText, true, 0, []byte(s)) }
func binary_(s string) []byte { return frame(ws.OpBinary, true, 0, []byte(s)) }

func closeFrame(code int, reason string) []byte {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return frame(ws.OpClose, true, 0, append(p, reason...))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// deflateRaw compresses p as one PMCE message without context takeover.
func deflateRaw(t testing.TB, p []byte) []byte {
	out, err := compressTo(nil, p, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// got is a comparable summary of an event or of the final error.
type got struct {
	Kind   EventKind
	Text   bool
	Data   string
	Code   int
	Reason string
}

func (g got) String() string {
	d := g.Data
	if len(d) > 40 {
		d = fmt.Sprintf("%.40q...(%d bytes)", d, len(d))
	}
	return fmt.Sprintf("{%v text=%v data=%q code=%d reason=%q}", g.Kind, g.Text, d, g.Code, g.Reason)
}

// feedMode splits input into the chunks a connection would deliver.
type feedMode struct {
	name  string
	split func(rng *rand.Rand, in []byte) [][]byte
}

var feedModes = []feedMode{
	{"whole", func(_ *rand.Rand, in []byte) [][]byte { return [][]byte{in} }},
	{"bytewise", func(_ *rand.Rand, in []byte) [][]byte {
		out := make([][]byte, len(in))
		for i := range in {
			out[i] = in[i : i+1]
		}
		return out
	}},
	{"random", func(rng *rand.Rand, in []byte) [][]byte {
		var out [][]byte
		for len(in) > 0 {
			n := min(len(in), 1+rng.IntN(17))
			out, in = append(out, in[:n]), in[n:]
		}
		return out
	}},
}

// drive feeds chunks to r the way the event loop does: the unread input is the
// unconsumed rest plus the new chunk. It returns every event and the close code of the
// first error (0 when none).
func drive(t testing.TB, r *Reader, chunks [][]byte) ([]got, int) {
	return drivePooled(t, r, chunks, nil)
}

// drivePooled is drive for a connection that gives its Reader back between reads
// whenever it is Idle: swap(r) returns the Reader to use for the next read.
func drivePooled(t testing.TB, r *Reader, chunks [][]byte, swap func(*Reader) *Reader) ([]got, int) {
	var events []got
	var pending []byte
	for _, c := range chunks {
		if swap != nil && r.Idle() {
			r = swap(r)
		}
		pending = append(pending, c...)
		for {
			n, ev, err := r.Feed(pending)
			if n < 0 || n > len(pending) {
				t.Fatalf("Feed consumed %d of %d bytes", n, len(pending))
			}
			pending = pending[n:]
			if err != nil {
				var ce *CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("Feed error %v is not a *CloseError", err)
				}
				return events, ce.Code
			}
			if ev.Kind == EventYield {
				continue // the next slice of a compressed message
			}
			if ev.Kind == EventNone {
				if len(pending) >= ws.MaxHeaderSize {
					t.Fatalf("Feed left %d bytes unconsumed", len(pending))
				}
				break
			}
			events = append(events, got{ev.Kind, ev.Text, string(ev.Data), ev.Code, string(ev.Reason)})
		}
	}
	return events, 0
}

func flateWriter(w *bytes.Buffer) (*flate.Writer, error) { return flate.NewWriter(w, flate.BestSpeed) }
