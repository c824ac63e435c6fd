package eventloop

import (
	"time"
	"unicode/utf8"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// Compression budgets. permessage-deflate lets a client make the server work far more
// than it sends: 16 KiB inflate to 16 MiB, and an app echoing that message makes the
// server compress 16 MiB (compress/flate's fastest level runs at 60-300 MB/s). So
// compression work is bounded twice on each connection that negotiated it:
//
//   - per turn of the loop: the frame reader inflates at most CompressionSlice bytes per
//     call, and the session yields the loop (conn.yield: the rest of the input stays
//     in gnet, a Wake resumes) once it inflated that much in one callback, so other
//     connections are served between slices; the loop compresses no outbound message
//     larger than CompressionSlice (event-mode sends above it go uncompressed);
//   - over time: inflated bytes are charged to a budget paid back at MaxInflateRate (a
//     client above it is closed with 1008), compressed outbound bytes to one paid back
//     at MaxDeflateRate (above it messages go uncompressed). Each allows a burst of
//     one maximal message plus one second's worth.

// errInflateBudget closes a connection whose messages inflate faster than
// MaxInflateRate.
var errInflateBudget = &websocket.CloseError{Code: websocket.ClosePolicyViolation, Reason: "compressed messages inflate too fast"}

// rateBudget is work (in bytes) paid back at a constant rate: a token bucket kept as
// its debt, so that the zero value is a full bucket.
type rateBudget struct {
	debt int64 // bytes not paid back yet
	at   int64 // time.Now().UnixNano() of the last charge
}

// settle pays back what the time since the last charge allows.
func (b *rateBudget) settle(rate int, now int64) {
	if b.debt > 0 {
		paid := float64(now-b.at) / float64(time.Second) * float64(rate)
		b.debt = max(0, b.debt-int64(min(paid, float64(b.debt))))
	}
	b.at = now
}

// compressionBudget is the budgets of a connection that negotiated permessage-deflate.
type compressionBudget struct {
	in  rateBudget // owned by the loop goroutine
	out rateBudget // guarded by c.mu
}

// newCompressionBudget returns the budgets of a connection with d, or nil when it
// compresses nothing.
func newCompressionBudget(d websocket.Deflate) *compressionBudget {
	if !d.Enabled {
		return nil
	}
	return &compressionBudget{}
}

// burst is the debt a budget may run up: one maximal message plus one second's worth.
func burst(cfg *websocket.Config, rate int) int64 {
	return int64(cfg.MaxMessageSize) + int64(rate)
}

// chargeInflate adds what the frame reader inflated since the last call to the
// connection's inbound budget and reports whether the connection stays within
// MaxInflateRate. Loop only.
func (w *wsSession) chargeInflate(n int) bool {
	rate := w.cfg.MaxInflateRate
	if n == 0 || rate <= 0 || w.zb == nil {
		return true
	}
	b := &w.zb.in
	b.settle(rate, time.Now().UnixNano())
	b.debt += int64(n)
	return b.debt <= burst(w.cfg, rate)
}

// mayCompress reports whether an outbound message of n bytes is to be compressed, and
// charges it to the outbound budget if so: compression is negotiated and n is at
// least the threshold, the budget has room (MaxDeflateRate), and, for a send in event
// mode (onLoop: SendNow, normally on the loop), n is at most CompressionSlice.
// Safe for concurrent use.
func (w *wsSession) mayCompress(n int, onLoop bool) bool {
	if !w.writer().Compresses(n) || onLoop && n > w.cfg.CompressionSlice {
		return false
	}
	rate := w.cfg.MaxDeflateRate
	if rate <= 0 || w.zb == nil {
		return true
	}
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &w.zb.out
	b.settle(rate, time.Now().UnixNano())
	if b.debt+int64(n) > burst(w.cfg, rate) {
		return false
	}
	b.debt += int64(n)
	return true
}

// precompress checks a websocket.send and, when it is to be compressed (mayCompress),
// encodes its frame before c.mu is taken; nil means sendLocked frames it uncompressed.
func (w *wsSession) precompress(msg asgi.Message, onLoop bool) ([]byte, error) {
	m, ok := msg.(*asgi.WebSocketSend)
	if !ok {
		return nil, nil
	}
	if m.Text && !utf8.Valid(m.Data) {
		return nil, &asgi.ContractError{Msg: "Invalid UTF-8 in 'websocket.send' text message."}
	}
	if !w.mayCompress(len(m.Data), onLoop) {
		return nil, nil
	}
	return w.writer().AppendMessage(nil, m.Text, m.Data)
}

// yield stops reading a connection for this turn of the loop after a slice of
// compression work: the unconsumed input stays in gnet, and the connection continues
// on the loop's next poll, after the other connections' events (conn.yielded,
// resume.go; needWake so that a message still inflating goes on with no new input). A
// peer that keeps sending meanwhile is held to the same cap on unread input as a
// stalled one. Loop only.
func (w *wsSession) yield(c *conn, rest []byte) {
	if len(rest) > w.cfg.MaxMessageSize {
		w.fail(c, errInboundOverflow)
		return
	}
	c.needWake, c.yielded = true, true
	w.yielded = true
}
