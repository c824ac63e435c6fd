package websocket

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Deflate is the permessage-deflate agreement of one connection (RFC 7692). The server
// always sends server_no_context_takeover, so its compressors are pooled and shared.
type Deflate struct {
	// Enabled reports that permessage-deflate was negotiated.
	Enabled bool
	// ClientContextTakeover reports that the client may reference earlier messages;
	// the Reader then keeps a 32 KiB history.
	ClientContextTakeover bool
}

// maxWindowBits is the only LZ77 window compress/flate compresses with (32 KiB).
const maxWindowBits = 15

// historySize is the LZ77 window kept for client context takeover.
const historySize = 1 << maxWindowBits

func (d Deflate) responseValue() string {
	if d.ClientContextTakeover {
		return wsflate.ExtensionName + "; server_no_context_takeover"
	}
	return wsflate.ExtensionName + "; server_no_context_takeover; client_no_context_takeover"
}

// negotiateDeflate accepts the first permessage-deflate offer the server can honour.
// Offers with invalid parameters are declined, as are offers asking for a server window
// below 32 KiB, which compress/flate cannot produce.
func negotiateDeflate(headers asgi.Headers, cfg *Config) Deflate {
	var room [1]httphead.Option // an Option is large: most handshakes offer one
	opts := room[:0]
	for _, v := range headers.Values("sec-websocket-extensions") {
		var ok bool
		if opts, ok = httphead.ParseOptions(v, opts[:0]); !ok {
			continue
		}
		for _, opt := range opts {
			if d, ok := acceptOffer(opt, cfg); ok {
				return d
			}
		}
	}
	return Deflate{}
}

func acceptOffer(opt httphead.Option, cfg *Config) (Deflate, bool) {
	if !bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
		return Deflate{}, false
	}
	var p wsflate.Parameters
	if err := p.Parse(opt); err != nil {
		return Deflate{}, false
	}
	if p.ServerMaxWindowBits.Defined() && p.ServerMaxWindowBits < maxWindowBits {
		return Deflate{}, false
	}
	return Deflate{
		Enabled:               true,
		ClientContextTakeover: cfg.ClientContextTakeover && !p.ClientNoContextTakeover,
	}, true
}

// compressor is a pooled wsflate.Writer over a compress/flate writer of one level.
type compressor struct {
	w *wsflate.Writer
}

// compressorPools holds one pool per flate level (index = level).
var compressorPools [flate.BestCompression + 1]sync.Pool

func getCompressor(level int) *compressor {
	if c, ok := compressorPools[level].Get().(*compressor); ok {
		return c
	}
	return &compressor{w: wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
		fw, _ := flate.NewWriter(w, level) // level is validated by Config.Normalize
		return fw
	})}
}

func putCompressor(level int, c *compressor) {
	c.w.Reset(nil)
	compressorPools[level].Put(c)
}

// appendBuffer is an io.Writer appending to a byte slice.
type appendBuffer struct{ b []byte }

func (a *appendBuffer) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// compressTo appends the PMCE-compressed form of p (without the 0x00 0x00 0xff 0xff
// tail) to dst, using a pooled compressor of the given level.
func compressTo(dst, p []byte, level int) ([]byte, error) {
	c := getCompressor(level)
	defer putCompressor(level, c)
	buf := appendBuffer{b: dst}
	c.w.Reset(&buf)
	if _, err := c.w.Write(p); err != nil {
		return dst, err
	}
	if err := c.w.Flush(); err != nil {
		return dst, err
	}
	return buf.b, nil
}

// inflater adapts a compress/flate reader to wsflate's Decompressor with ReadResetter,
// resetting it with the connection's history as preset dictionary (context takeover).
type inflater struct {
	fr   io.ReadCloser
	dict []byte
}

func (f *inflater) Read(p []byte) (int, error) { return f.fr.Read(p) }

func (f *inflater) Reset(r io.Reader) {
	if f.fr == nil {
		f.fr = flate.NewReaderDict(r, f.dict)
		return
	}
	_ = f.fr.(flate.Resetter).Reset(r, f.dict) // Reset of compress/flate never fails
}

// decompressor is a pooled wsflate.Reader (which appends the final empty block) over a
// bytes.Reader of the compressed message. compress/flate reads a bytes.Reader byte by
// byte (it is an io.ByteReader, and so is wsflate's suffixed reader), so it never
// reads ahead: the input not read yet is exactly src's unread part, and an inflation
// can stop after any slice of output and go on later.
type decompressor struct {
	src   bytes.Reader
	in    []byte // what src reads
	owned bool   // in is the Reader's own buffer, not the caller's input
	inf   inflater
	r     *wsflate.Reader
}

var decompressorPool sync.Pool

// getDecompressor returns a pooled decompressor reading the PMCE data p with history
// as preset dictionary. owned says p outlives the current Feed call.
func getDecompressor(p, history []byte, owned bool) *decompressor {
	d, ok := decompressorPool.Get().(*decompressor)
	if !ok {
		d = &decompressor{}
		d.r = wsflate.NewReader(&d.src, func(r io.Reader) wsflate.Decompressor {
			d.inf.Reset(r)
			return &d.inf
		})
	}
	d.in, d.owned = p, owned
	d.src.Reset(p)
	d.inf.dict = history
	d.r.Reset(&d.src)
	return d
}

func putDecompressor(d *decompressor) {
	d.src.Reset(nil)
	d.in = nil
	d.inf.dict = nil
	decompressorPool.Put(d)
}

// step appends at most slice decompressed bytes to dst and reports whether the message
// is complete. It fails with ErrMessageTooBig as soon as dst would hold more than limit
// bytes: the output of a compression bomb stops at the limit.
func (d *decompressor) step(dst []byte, slice, limit int) ([]byte, bool, error) {
	stop := len(dst) + slice
	for len(dst) < stop {
		if len(dst) == cap(dst) {
			dst = growFor(dst, limit)
		}
		n, err := d.r.Read(dst[len(dst):min(cap(dst), stop)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst, false, ErrMessageTooBig
		}
		if err == io.EOF {
			return dst, true, nil
		}
		if err != nil {
			return dst, false, ErrBadCompression
		}
	}
	return dst, false, nil
}

// keep moves the compressed input not read yet into buf (reusing its capacity) when
// it lies in the caller's input, which dies when Feed returns, and returns the buffer
// now read from.
func (d *decompressor) keep(buf []byte) []byte {
	if d.owned {
		return buf
	}
	rest := d.in[len(d.in)-d.src.Len():]
	buf = append(buf[:0], rest...)
	d.in, d.owned = buf, true
	d.src.Reset(buf)
	return buf
}

// growFor doubles the capacity of b (at least 4 KiB), never beyond limit+1: one byte
// past the limit is enough to detect an oversized message.
func growFor(b []byte, limit int) []byte {
	n := max(2*cap(b), 4096)
	n = min(n, limit+1)
	nb := make([]byte, len(b), n)
	copy(nb, b)
	return nb
}

// appendHistory keeps the last historySize bytes of hist+msg, for client context
// takeover.
func appendHistory(hist, msg []byte) []byte {
	if len(msg) >= historySize {
		return append(hist[:0], msg[len(msg)-historySize:]...)
	}
	if drop := len(hist) + len(msg) - historySize; drop > 0 {
		hist = append(hist[:0], hist[drop:]...)
	}
	return append(hist, msg...)
}
