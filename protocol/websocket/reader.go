package websocket

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// EventKind says what Reader.Feed produced.
type EventKind uint8

// Events produced by Reader.Feed.
const (
	EventNone    EventKind = iota // all input consumed (or more is needed); nothing to do
	EventMessage                  // a complete text or binary message
	EventPing                     // a ping: answer with a pong carrying Data
	EventPong                     // a pong
	EventClose                    // a close frame; the Reader ignores all later input
	// EventYield: the Reader inflated CompressionSlice bytes of a compressed message
	// in this call and stopped; call Feed again (with the unconsumed input, possibly
	// none) to go on. The caller may serve other connections first.
	EventYield
)

func (k EventKind) String() string {
	switch k {
	case EventNone:
		return "none"
	case EventMessage:
		return "message"
	case EventPing:
		return "ping"
	case EventPong:
		return "pong"
	case EventClose:
		return "close"
	case EventYield:
		return "yield"
	}
	return "invalid"
}

// Event is one result of Reader.Feed.
type Event struct {
	Kind EventKind
	// Text marks a text message (its Data is valid UTF-8).
	Text bool
	// Data is the message or control frame payload. It points into the Reader's buffers
	// or into the slice given to Feed: it is valid until the next Feed call and until the
	// caller reuses the input bytes.
	Data []byte
	// Code is the peer's close code for EventClose, CloseNoStatus (1005) when it sent
	// none.
	Code int
	// Reason is the peer's close reason (valid UTF-8), with Data's lifetime.
	Reason []byte
}

// retainSize is the buffer capacity a Reader keeps between messages; larger buffers
// are released once their message was delivered, so an idle connection stays small.
const retainSize = 64 << 10

// Reader is the inbound half of a server-side WebSocket connection: it turns bytes into
// events, incrementally. It is used by the connection's event loop goroutine only.
//
// Feed consumes every payload byte it sees (unmasking it where it lies and copying it
// only when a message spans several Feed calls or several frames), so a message of any
// size costs time linear in its length; only an incomplete frame header (at most 14
// bytes) is left unconsumed. A compressed message is inflated at most
// CompressionSlice bytes per Feed call (EventYield between slices), so a compression
// bomb is worked off in bounded steps, and fails with 1009 as soon as its output
// passes MaxMessageSize.
type Reader struct {
	maxMessage int64
	maxFrame   int64
	slice      int
	deflate    Deflate
	history    []byte // client context takeover only: the last 32 KiB of messages

	// The compressed message being inflated (dec is held only meanwhile).
	dec      *decompressor
	inflated int // bytes inflated since the last TakeInflated

	// The frame being read.
	inFrame bool
	hdr     ws.Header
	remain  int64 // payload bytes still to come
	offset  int   // payload bytes already unmasked (the cipher's offset)

	// The message being reassembled.
	fragmented bool // a data frame without FIN was received
	text       bool
	compressed bool
	msg        []byte // payload of the data frames so far (compressed if compressed)
	out        []byte // decompressed message
	utf8       utf8Stream

	ctl    [ws.MaxControlFramePayloadSize]byte
	ctlLen int

	closed bool
	err    error
}

// NewReader returns the Reader of a connection whose handshake negotiated d. cfg must
// be normalized; only its limits are used.
func NewReader(cfg *Config, d Deflate) *Reader {
	return &Reader{maxMessage: int64(cfg.MaxMessageSize), maxFrame: int64(cfg.MaxFrameSize), slice: sliceOf(cfg), deflate: d}
}

// Idle reports whether r carries nothing from one Feed to the next: no frame or
// fragmented message in progress, no compression history, no close or error. An idle
// Reader may be Reset for another connection, so a connection between messages need
// not hold one.
func (r *Reader) Idle() bool {
	return !r.inFrame && !r.fragmented && r.dec == nil && len(r.history) == 0 && !r.closed && r.err == nil
}

// pooledRetainSize is the largest message buffer a Reset Reader keeps: readers
// shared by many connections hold little each.
const pooledRetainSize = 4 << 10

// Reset makes r the Reader of a new connection, as NewReader(cfg, d) would, keeping
// its small buffers. Call it only on an Idle Reader.
func (r *Reader) Reset(cfg *Config, d Deflate) {
	msg, out := r.msg[:0], r.out[:0]
	if cap(msg) > pooledRetainSize {
		msg = nil
	}
	if cap(out) > pooledRetainSize {
		out = nil
	}
	*r = Reader{maxMessage: int64(cfg.MaxMessageSize), maxFrame: int64(cfg.MaxFrameSize), slice: sliceOf(cfg), deflate: d, msg: msg, out: out}
}

// sliceOf is cfg's CompressionSlice, or its default for a Config that was not
// normalized.
func sliceOf(cfg *Config) int {
	if cfg.CompressionSlice > 0 {
		return cfg.CompressionSlice
	}
	return DefaultCompressionSlice
}

// TakeInflated returns how many bytes the Reader inflated since the previous call
// (including the output of a message that then failed), for a caller that budgets
// decompression per connection.
func (r *Reader) TakeInflated() int {
	n := r.inflated
	r.inflated = 0
	return n
}

// Buffered returns how many bytes of a message in progress r holds between Feed
// calls: the frames of a fragmented message, or a frame split across Feed calls,
// copied so far. It is at most the message limit; callers count it against a
// connection's inbound budget.
func (r *Reader) Buffered() int { return len(r.msg) }

// Closed reports whether a close frame was received.
func (r *Reader) Closed() bool { return r.closed }

// Feed consumes data, the connection's unread input, and returns how many bytes it
// consumed and the first event it produced. Call it again with data[n:] until it returns
// EventNone: then every byte was consumed except an incomplete frame header, which the
// caller keeps for the next call. Payload bytes are unmasked in place in data.
//
// On a protocol violation Feed returns a *CloseError with the close code to send; the
// error is sticky. After EventClose every later byte is consumed and ignored.
func (r *Reader) Feed(data []byte) (n int, ev Event, err error) {
	if r.err != nil {
		return 0, Event{}, r.err
	}
	if r.closed {
		return len(data), Event{}, nil
	}
	if r.dec != nil {
		ev, err := r.inflateMore()
		return 0, ev, r.fail(err)
	}
	r.releaseIdle()
	for {
		if !r.inFrame {
			hn, err := r.readHeader(data[n:])
			if err != nil {
				return n, Event{}, r.fail(err)
			}
			if hn == 0 {
				return n, Event{}, nil
			}
			n += hn
		}
		k, ev, err := r.readPayload(data[n:])
		n += k
		if err != nil || ev.Kind != EventNone || r.inFrame {
			return n, ev, r.fail(err)
		}
	}
}

func (r *Reader) fail(err error) error {
	if err != nil {
		r.err = err
	}
	return err
}

// releaseIdle drops the buffers of a large delivered message and rewinds the others.
func (r *Reader) releaseIdle() {
	if r.fragmented || r.inFrame || r.dec != nil {
		return
	}
	if cap(r.msg) > retainSize {
		r.msg = nil
	}
	if cap(r.out) > retainSize {
		r.out = nil
	}
	r.msg, r.out = r.msg[:0], r.out[:0]
}

// readHeader parses and checks one frame header from p. It returns 0 when p does not
// hold a complete header yet.
func (r *Reader) readHeader(p []byte) (int, error) {
	h, hn, err := parseHeader(p)
	if hn == 0 || err != nil {
		return 0, err
	}
	if err := r.checkHeader(&h); err != nil {
		return 0, err
	}
	r.inFrame, r.hdr, r.remain, r.offset, r.ctlLen = true, h, h.Length, 0, 0
	if h.OpCode == ws.OpText || h.OpCode == ws.OpBinary {
		r.text = h.OpCode == ws.OpText
		r.utf8.reset()
	}
	return hn, nil
}

// parseHeader decodes a frame header (RFC 6455 section 5.2). It returns hn == 0 when p
// is too short.
func parseHeader(p []byte) (h ws.Header, hn int, err error) {
	if len(p) < 2 {
		return h, 0, nil
	}
	h.Fin = p[0]&0x80 != 0
	h.Rsv = (p[0] >> 4) & 0x7
	h.OpCode = ws.OpCode(p[0] & 0x0f)
	h.Masked = p[1]&0x80 != 0
	ext := 0 // bytes of extended payload length
	switch l := p[1] & 0x7f; l {
	case 126:
		ext = 2
	case 127:
		ext = 8
	default:
		h.Length = int64(l)
	}
	hn = 2 + ext
	if h.Masked {
		hn += 4
	}
	if len(p) < hn {
		return h, 0, nil
	}
	switch ext {
	case 2:
		h.Length = int64(binary.BigEndian.Uint16(p[2:4]))
	case 8:
		u := binary.BigEndian.Uint64(p[2:10])
		if u>>63 != 0 {
			return h, 0, ErrBadLength
		}
		h.Length = int64(u)
	}
	if h.Masked {
		copy(h.Mask[:], p[hn-4:hn])
	}
	return h, hn, nil
}

// checkHeader applies RFC 6455 5.2-5.5 and RFC 7692 6.1 to a client frame header, and
// the size limits. It clears the compression bit of h once noted.
func (r *Reader) checkHeader(h *ws.Header) error {
	state := ws.StateServerSide
	if r.deflate.Enabled {
		state = state.Set(ws.StateExtended)
	}
	if r.fragmented {
		state = state.Set(ws.StateFragmented)
	}
	if err := ws.CheckHeader(*h, state); err != nil {
		return protocolError(err.Error())
	}
	if err := r.checkRsv(h); err != nil {
		return err
	}
	if h.OpCode.IsControl() {
		return nil
	}
	if h.Length > r.maxFrame || int64(len(r.msg))+h.Length > r.maxMessage {
		return ErrMessageTooBig
	}
	return nil
}

// checkRsv accepts RSV1 on the first frame of a data message when permessage-deflate
// was negotiated, and no other reserved bit.
func (r *Reader) checkRsv(h *ws.Header) error {
	if !r.deflate.Enabled {
		return nil // ws.CheckHeader refused every reserved bit
	}
	var st wsflate.MessageState
	nh, err := st.UnsetBits(*h)
	if err != nil || nh.Rsv != 0 {
		return ErrUnexpectedRsv
	}
	if h.OpCode == ws.OpText || h.OpCode == ws.OpBinary {
		r.compressed = st.IsCompressed()
	}
	h.Rsv = 0
	return nil
}

// readPayload consumes as much of the current frame's payload as p holds and returns
// the event the frame completes, if any.
func (r *Reader) readPayload(p []byte) (int, Event, error) {
	if r.remain <= int64(len(p)) && r.offset == 0 && r.inPlace() {
		return r.completeInPlace(p[:r.remain])
	}
	k := int(min(r.remain, int64(len(p))))
	chunk := p[:k]
	ws.Cipher(chunk, r.hdr.Mask, r.offset)
	r.offset += k
	r.remain -= int64(k)
	if r.hdr.OpCode.IsControl() {
		r.ctlLen += copy(r.ctl[r.ctlLen:], chunk)
	} else {
		if err := r.checkText(chunk); err != nil {
			return k, Event{}, err
		}
		r.msg = appendGrow(r.msg, chunk, r.growLimit(len(chunk)))
	}
	if r.remain > 0 {
		return k, Event{}, nil
	}
	ev, err := r.endFrame(nil)
	return k, ev, err
}

// inPlace reports whether the current frame, once complete in the input, can be
// delivered without copying: a control frame, or an unfragmented data message.
func (r *Reader) inPlace() bool {
	return r.hdr.OpCode.IsControl() || r.hdr.Fin && r.hdr.OpCode != ws.OpContinuation
}

// completeInPlace unmasks a whole frame payload where it lies and finishes the frame.
func (r *Reader) completeInPlace(payload []byte) (int, Event, error) {
	ws.Cipher(payload, r.hdr.Mask, 0)
	r.remain = 0
	if !r.hdr.OpCode.IsControl() {
		if err := r.checkText(payload); err != nil {
			return len(payload), Event{}, err
		}
	}
	ev, err := r.endFrame(payload)
	return len(payload), ev, err
}

// checkText validates a chunk of an uncompressed text message as it arrives.
func (r *Reader) checkText(chunk []byte) error {
	if r.text && !r.compressed && !r.utf8.write(chunk) {
		return ErrInvalidUTF8
	}
	return nil
}

// endFrame finishes the current frame; payload is the whole payload when it was not
// copied into the Reader's buffers.
func (r *Reader) endFrame(payload []byte) (Event, error) {
	r.inFrame = false
	switch r.hdr.OpCode {
	case ws.OpPing:
		return Event{Kind: EventPing, Data: r.control(payload)}, nil
	case ws.OpPong:
		return Event{Kind: EventPong, Data: r.control(payload)}, nil
	case ws.OpClose:
		return r.closeEvent(r.control(payload))
	}
	if !r.hdr.Fin {
		r.fragmented = true
		return Event{}, nil
	}
	owned := payload == nil
	if owned {
		payload = r.msg
	}
	return r.message(payload, owned)
}

func (r *Reader) control(payload []byte) []byte {
	if payload != nil {
		return payload
	}
	return r.ctl[:r.ctlLen]
}

// closeEvent validates a close payload (RFC 6455 5.5.1, 7.4).
func (r *Reader) closeEvent(p []byte) (Event, error) {
	r.closed = true
	switch {
	case len(p) == 0:
		return Event{Kind: EventClose, Code: CloseNoStatus}, nil
	case len(p) == 1:
		return Event{}, ErrBadCloseFrame
	}
	code := int(binary.BigEndian.Uint16(p))
	reason := p[2:]
	if !asgi.ValidCloseCode(code) || !utf8.Valid(reason) {
		return Event{}, ErrBadCloseFrame
	}
	return Event{Kind: EventClose, Code: code, Reason: reason}, nil
}

// message finishes a data message whose (possibly compressed) payload is p; owned
// says p is the Reader's buffer rather than the caller's input.
func (r *Reader) message(p []byte, owned bool) (Event, error) {
	text, compressed := r.text, r.compressed
	r.fragmented, r.compressed = false, false
	if compressed {
		r.out = r.out[:0]
		r.dec = getDecompressor(p, r.history, owned)
		return r.inflateMore()
	}
	if text && !r.utf8.final() {
		return Event{}, ErrInvalidUTF8
	}
	return Event{Kind: EventMessage, Text: text, Data: p}, nil
}

// inflateMore inflates the next slice of the compressed message, validating text as
// it comes out. It returns EventYield when the slice is used up before the message
// ends, keeping the unread compressed input in the Reader's buffer.
func (r *Reader) inflateMore() (Event, error) {
	start := len(r.out)
	out, done, err := r.dec.step(r.out, r.slice, int(r.maxMessage))
	r.out = out
	r.inflated += len(out) - start
	if err == nil && r.text && !r.utf8.write(out[start:]) {
		err = ErrInvalidUTF8
	}
	if err != nil || done {
		putDecompressor(r.dec)
		r.dec = nil
	}
	switch {
	case err != nil:
		return Event{}, err
	case !done:
		r.msg = r.dec.keep(r.msg)
		return Event{Kind: EventYield}, nil
	case r.text && !r.utf8.final():
		return Event{}, ErrInvalidUTF8
	}
	if r.deflate.ClientContextTakeover {
		r.history = appendHistory(r.history, out)
	}
	return Event{Kind: EventMessage, Text: r.text, Data: out}, nil
}

// growLimit is the largest capacity the message buffer may grow to while the current
// data frame is read, chunk being the payload bytes about to be appended: a final frame
// ends the message, so the buffer needs no more than the frame still declares; otherwise more fragments may follow, up to the message
// limit (checkHeader keeps every frame within it).
func (r *Reader) growLimit(chunk int) int64 {
	if r.hdr.Fin {
		return int64(len(r.msg)+chunk) + r.remain
	}
	return r.maxMessage
}

// appendGrow appends chunk to msg, doubling the capacity when it must grow (append's
// 1.25x growth for large slices costs five times a large message in copies), but never
// beyond limit bytes (growLimit). Doubling across fragments keeps reassembly linear: a
// message in n small fragments is copied O(log n) times in all, not once per fragment.
// Memory follows the bytes that arrived (at most twice them, or the message limit), not
// a peer-declared length.
func appendGrow(msg, chunk []byte, limit int64) []byte {
	need := len(msg) + len(chunk)
	if need <= cap(msg) {
		return append(msg, chunk...)
	}
	n := max(2*cap(msg), need, 512)
	n = int(max(min(int64(n), limit), int64(need)))
	grown := make([]byte, len(msg), n)
	copy(grown, msg)
	return append(grown, chunk...)
}
