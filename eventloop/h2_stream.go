package eventloop

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// h2Stream is one HTTP/2 request and its response.
type h2Stream struct {
	h     *h2Session
	c     *conn
	id    uint32
	scope *asgi.HTTPScope
	ctx   context.Context // &callCtx
	ended atomic.Bool     // the app call ended (end): returned or detached

	callCtx callContext // the call's context: cancelled when the stream is gone or the call ends

	// Set at creation (inline before the app runs), then read-only:
	isHead  bool
	inline  bool // the app runs on the loop goroutine: its sends never block
	started time.Time

	// Guarded by c.mu:
	declaredLen  int64
	received     int64
	body         bodyQueue
	bodyDone     bool
	deliveredEnd bool
	recvWait     chan struct{} // closed when body arrives or the stream goes
	winWait      chan struct{} // closed when a send window grows or the stream goes
	gone         bool          // reset, connection closed, or the app finished
	tooLarge     bool          // the body exceeded MaxBodyBytes: answered 413
	order        asgi.HTTPResponseOrder
	status       int
	sentBytes    int64 // response body bytes, for the access log
	trailers     asgi.Headers

	// Inline streams only, guarded by c.mu: output the peer's windows did not take yet.
	backlog         []byte
	backlogEnd      bool         // the backlog ends the body
	backlogTrailers asgi.Headers // trailers to send after the backlog
	hasTrailers     bool
	appDone         bool // the app returned: release once the backlog is written
	inBacklog       bool // listed in h2Session.backlogged and counted in blocked
}

func newH2Stream(h *h2Session, id uint32, scope *asgi.HTTPScope, isHead bool) *h2Stream {
	st := &h2Stream{h: h, c: h.c, id: id, scope: scope, isHead: isHead, started: time.Now(), declaredLen: -1}
	st.ctx = &st.callCtx
	return st
}

func (st *h2Stream) waitingBodyLocked() bool { return !st.bodyDone && !st.gone && st.body.empty() }

func (st *h2Stream) goneLocked() {
	if st.gone {
		return
	}
	st.gone = true
	st.body.release()
	st.wakeReceiverLocked()
	st.wakeSenderLocked()
	st.callCtx.cancel()
}

func (st *h2Stream) wakeReceiverLocked() {
	if st.recvWait != nil {
		close(st.recvWait)
		st.recvWait = nil
	}
}

func (st *h2Stream) wakeSenderLocked() {
	if st.winWait != nil {
		close(st.winWait)
		st.winWait = nil
	}
}

// refuse answers the stream on the server's behalf (loop goroutine).
func (st *h2Stream) refuse(status int, reason string) {
	c := st.c
	c.srv.log.Warn("request refused", "client", c.gc.RemoteAddr(), "status", status, "reason", reason)
	c.loop.stats.rejectStatus(status)
	c.mu.Lock()
	st.status = status
	st.writeErrorLocked(status, reason)
	st.releaseLocked()
	c.mu.Unlock()
}

func (st *h2Stream) writeErrorLocked(status int, text string) {
	c, p := st.c, st.h.proto
	headers := asgi.H("content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(text)))
	var err error
	if c.pending, err = p.WriteHeaders(c.pending, st.id, status, headers, false); err == nil {
		c.pending, _, _ = p.WriteData(c.pending, st.id, []byte(text), true)
	}
}

// releaseLocked ends the stream's life in the glue and the Conn.
func (st *h2Stream) releaseLocked() {
	st.leaveBacklogLocked()
	st.goneLocked()
	st.c.pending = st.h.proto.Release(st.c.pending, st.id)
	delete(st.h.streams, st.id)
}

// receive is the app's Receive.
func (st *h2Stream) receive(ctx context.Context) (asgi.Message, error) {
	c := st.c
	c.mu.Lock()
	for {
		if st.gone {
			c.mu.Unlock()
			return &asgi.HTTPDisconnect{}, nil
		}
		if b := st.popBodyLocked(); b != nil {
			more := !st.bodyDone || !st.body.empty()
			st.deliveredEnd = !more
			c.mu.Unlock()
			return &asgi.HTTPRequest{Body: b, MoreBody: more}, nil
		}
		if st.bodyDone && !st.deliveredEnd {
			st.deliveredEnd = true
			c.mu.Unlock()
			return &asgi.HTTPRequest{}, nil
		}
		if st.deliveredEnd && st.order.State == asgi.HTTPResponseComplete {
			c.mu.Unlock()
			return &asgi.HTTPDisconnect{}, nil // nothing more will come
		}
		if st.inline {
			c.mu.Unlock()
			return nil, errInlineWouldBlock
		}
		if st.recvWait == nil {
			st.recvWait = make(chan struct{})
			c.scheduleFlushLocked() // the loop re-arms the body timer (onFlushed)
		}
		wait := st.recvWait
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
	}
}

// maxReceiveChunk is the most body bytes merged into one http.request message.
const maxReceiveChunk = 64 << 10

// popBodyLocked takes the queued body bytes (merging small DATA frames up to
// maxReceiveChunk) and grants them back to the peer's windows.
func (st *h2Stream) popBodyLocked() []byte {
	b, _ := st.body.pop()
	if b == nil {
		return nil
	}
	for n := st.body.nextLen(); n > 0 && len(b)+n <= maxReceiveChunk; n = st.body.nextLen() {
		next, _ := st.body.pop()
		b = append(b, next...)
	}
	c := st.c
	n := len(c.pending)
	c.pending = st.h.proto.Consumed(c.pending, st.id, len(b))
	if len(c.pending) > n {
		// A window reopened: the client gets a whole BodyTimeout from now.
		st.h.lastRead = time.Now()
		c.scheduleFlushLocked()
	}
	return b
}

// send is the app's Send.
func (st *h2Stream) send(ctx context.Context, msg asgi.Message) error {
	if ps, ok := msg.(*asgi.HTTPResponsePathsend); ok {
		return sendPath(ctx, st, ps)
	}
	c := st.c
	if err := lockForSend(c, &st.gone, &st.ended, &st.order, msg); err != nil {
		return err
	}
	var err error
	switch m := msg.(type) {
	case *asgi.HTTPResponseEarlyHint:
		st.c.pending, err = st.h.proto.WriteInformational(st.c.pending, st.id, 103, earlyHintHeaders(m.Links))
	case *asgi.HTTPResponseStart:
		err = st.writeStartLocked(m)
	case *asgi.HTTPResponseBody:
		body := m.Body
		if st.isHead {
			body = nil
		}
		st.sentBytes += int64(len(body))
		if st.inline {
			return st.writeDataInlineLocked(body, !m.MoreBody)
		}
		return st.writeDataLocked(ctx, body, !m.MoreBody)
	case *asgi.HTTPResponseTrailers:
		err = st.writeTrailersLocked(m)
	}
	return st.queuedLocked(ctx, err)
}

// earlyHintHeaders is the field list of a 103 Early Hints: one link field per link.
func earlyHintHeaders(links [][]byte) asgi.Headers {
	h := make(asgi.Headers, len(links))
	for i, l := range links {
		h[i] = asgi.HeaderField{Name: linkField, Value: l}
	}
	return h
}

var linkField = []byte("link")

func (st *h2Stream) writeStartLocked(m *asgi.HTTPResponseStart) error {
	st.status = m.Status
	if m.Trailers {
		st.h.proto.AnnounceTrailers(st.id)
	}
	var err error
	st.c.pending, err = st.h.proto.WriteHeaders(st.c.pending, st.id, m.Status, m.Headers, false)
	return err
}

// writeTrailersLocked collects trailers and sends them with the last message (after
// the backlog of an inline stream, if any).
func (st *h2Stream) writeTrailersLocked(m *asgi.HTTPResponseTrailers) error {
	st.trailers = append(st.trailers, m.Headers.Clone()...)
	var err error
	switch {
	case m.MoreTrailers:
	case len(st.backlog) > 0:
		st.backlogTrailers, st.hasTrailers = st.trailers, true
	default:
		st.c.pending, err = st.h.proto.WriteTrailers(st.c.pending, st.id, st.trailers)
	}
	return err
}

// queuedLocked finishes a send whose frames are queued: it schedules the flush (the
// loop flushes inline streams at the end of the event) and applies backpressure.
// Called with c.mu held; returns with it released.
func (st *h2Stream) queuedLocked(ctx context.Context, err error) error {
	c := st.c
	if !st.inline {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	if err != nil {
		return asgi.ErrDisconnected
	}
	if st.inline || st.order.State == asgi.HTTPResponseComplete {
		return nil // nothing waits behind a response's final message; see waitWritable
	}
	return c.waitWritable(ctx)
}

// writeDataInlineLocked sends data for an app running on the loop, which must not
// block: what the peer's windows do not take now waits in the stream's backlog and is
// written as windows open (drainBacklogsLocked). Returns with c.mu released.
func (st *h2Stream) writeDataInlineLocked(data []byte, end bool) error {
	c, h := st.c, st.h
	if len(st.backlog) > 0 {
		st.backlog = append(st.backlog, data...)
		st.backlogEnd = end
		c.mu.Unlock()
		return nil
	}
	var n int
	var err error
	c.pending, n, err = h.proto.WriteData(c.pending, st.id, data, end)
	if err == nil && n < len(data) {
		st.backlog = append([]byte(nil), data[n:]...)
		st.backlogEnd = end
		h.backlogged = append(h.backlogged, st)
		st.inBacklog = true
		if h.blocked == 0 {
			h.stallFrom = time.Now()
		}
		h.blocked++ // counts for the stalled-window timeout
	}
	c.mu.Unlock()
	if err != nil {
		return asgi.ErrDisconnected
	}
	return nil
}

// drainBacklogLocked reports whether st's backlog is done (written or dropped).
func (st *h2Stream) drainBacklogLocked() bool {
	c, h := st.c, st.h
	if !st.gone {
		var n int
		var err error
		c.pending, n, err = h.proto.WriteData(c.pending, st.id, st.backlog, st.backlogEnd)
		st.backlog = st.backlog[n:]
		if err == nil && len(st.backlog) > 0 {
			return false
		}
		if err == nil && st.hasTrailers {
			c.pending, _ = h.proto.WriteTrailers(c.pending, st.id, st.backlogTrailers)
		}
	}
	st.leaveBacklogLocked()
	if st.appDone {
		st.releaseLocked()
	}
	return true
}

// leaveBacklogLocked drops st's backlog and its count in the stalled-window timer.
func (st *h2Stream) leaveBacklogLocked() {
	st.backlog, st.backlogTrailers = nil, nil
	if st.inBacklog {
		st.inBacklog = false
		st.h.blocked--
	}
}

// writeDataLocked sends data within the peer's windows, blocking while they are closed
// and while the connection has too much unsent output. Called with c.mu held; returns
// with it released.
func (st *h2Stream) writeDataLocked(ctx context.Context, data []byte, end bool) error {
	c, h := st.c, st.h
	for {
		var n int
		var err error
		c.pending, n, err = h.proto.WriteData(c.pending, st.id, data, end)
		data = data[n:]
		c.scheduleFlushLocked()
		if err != nil || st.gone {
			c.mu.Unlock()
			return asgi.ErrDisconnected
		}
		if len(data) == 0 || n > 0 {
			c.mu.Unlock()
			if len(data) == 0 && end {
				return nil // the final frame is queued; see waitWritable
			}
			if err := c.waitWritable(ctx); err != nil || len(data) == 0 {
				return err
			}
			c.mu.Lock()
			continue
		}
		if err := st.waitWindowLocked(ctx); err != nil {
			return err
		}
	}
}

// waitWindowLocked waits (releasing c.mu) until a send window grows, the stream goes,
// or ctx is done; it returns with c.mu held, or released with an error.
func (st *h2Stream) waitWindowLocked(ctx context.Context) error {
	c, h := st.c, st.h
	if st.winWait == nil {
		st.winWait = make(chan struct{})
	}
	wait := st.winWait
	if h.blocked == 0 {
		h.stallFrom = time.Now()
	}
	h.blocked++
	c.mu.Unlock()
	var err error
	select {
	case <-wait:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.mu.Lock()
	h.blocked--
	if err == nil && (st.gone || c.gone) {
		err = asgi.ErrDisconnected
	}
	if err != nil {
		c.mu.Unlock()
	}
	return err
}

// checkSend is the order check of httpStream.
func (st *h2Stream) checkSend(msg asgi.Message) error {
	return checkSend(st.c, &st.gone, &st.ended, &st.order, msg)
}

// writeBody is the body writer of httpStream: DATA within the peer's windows.
func (st *h2Stream) writeBody(ctx context.Context, b []byte, last bool) error {
	st.c.mu.Lock()
	st.sentBytes += int64(len(b))
	if st.inline {
		return st.writeDataInlineLocked(b, last)
	}
	return st.writeDataLocked(ctx, b, last)
}
