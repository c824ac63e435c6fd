package eventloop

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
)

// h1Stream is one HTTP/1.1 request and its response.
type h1Stream struct {
	c     *conn
	h     *h1Session
	scope *asgi.HTTPScope // &scopeVal
	ctx   context.Context // context.Background inline, else &callCtx
	ended atomic.Bool     // the app call ended (end): returned or detached

	// The scope lives in the stream: one allocation for both (h1ScopeIn).
	// Read-only after creation.
	scopeVal asgi.HTTPScope
	stateVal asgi.State // scopeVal.State (the server only fills it)

	// Set at creation, then read-only (the flags together: the stream is allocated per
	// request, and every byte of padding counts):
	protoMinor int
	started    int64 // the request's start (Unix nanoseconds), for the access log
	isHead     bool
	reqKeep    bool
	expect100  bool
	inline     bool
	proto      uint8 // ProtoHTTP1 or ProtoUWSGI, for Config.Stats (set by h1Session.start)
	sendfileOK bool  // cleartext socket: pathsend bodies may go out with sendfile (set by start)
	poolBody   bool  // body memory comes from bodyBufs, given back when the call returns (set by start)

	// Owned by the loop goroutine:
	inlineAtEnd bool // runs inline once its body (all in the input at hand) is queued
	doneOnLoop  bool // the loop has finished with this response
	logged      bool // the access log line was written
	received    int64

	// Guarded by c.mu:
	body         *bodyQueue    // made by inbox at the first body bytes: nil for most requests
	bodyLength   int64         // the declared Content-Length (0 if unknown): sizes inbox buffers
	bodyDone     bool          // every body byte is queued
	bodyErr      bool          // the body was cut short (timeout, too large, error)
	deliveredEnd bool          // http.request with more_body=false was delivered
	discarding   bool          // response done: further body bytes are dropped
	recvWait     chan struct{} // closed when body arrives or the client leaves
	gone         bool          // the client disconnected
	sentContinue bool
	order        asgi.HTTPResponseOrder
	resp         h1.Response
	status       int
	sentBytes    int64
	bodyBytes    int64 // response body bytes from the app (none for HEAD), for the access log
	// finished: the response is complete on the wire, or the app ended without
	// completing it. On the wire is as soon as the client has all of it: the app's last
	// body, or earlier the last byte of its Content-Length (h1.Response.WireComplete).
	// The session then goes on to the next request at once, so a client that sends its
	// next request as soon as it has read a response does not count as pipelining
	// while the app has still to send its final, empty body message.
	finished   bool
	abort      bool // the connection must be aborted (response started, then failed)
	forceClose bool

	callCtx callContext // the context of a call off the loop (h1Session.start)

	// Kept when the stream is recycled (recycle): the storage of the scope's bytes,
	// the app's receive and send, bound to this stream once, and an emptied body queue
	// for inbox.
	scopeBuf  []byte
	receiveFn asgi.Receive
	sendFn    asgi.Send
	spareBody *bodyQueue
}

func newH1Stream(c *conn, h *h1Session, req *h1.Request) *h1Stream {
	st := c.loop.reuseH1Stream()
	st.c, st.h = c, h
	st.isHead = req.IsHead()
	st.protoMinor = req.ProtoMinor
	st.reqKeep = req.KeepAlive
	st.expect100 = req.Expect100
	st.started = c.loop.clock().UnixNano()
	h1ScopeIn(st, c, req)
	if h.draining || c.srv.handover.Load() {
		st.forceClose = true
	}
	st.bodyLength = max(req.ContentLength, 0)
	return st
}

// maxFreeStreams bounds the recycled streams a loop keeps. Inline requests run one at a
// time on a loop, so a few cover the steady state.
const maxFreeStreams = 8

// Recycled streams drop scope storage above these bounds rather than keep it.
const (
	maxRecycledScopeBytes = 4 << 10
	maxRecycledHeaders    = 64
)

// reuseH1Stream returns a recycled stream (reset by recycle), or a new one. Loop only.
func (l *loop) reuseH1Stream() *h1Stream {
	n := len(l.freeH1)
	if n == 0 {
		st := &h1Stream{}
		if l.srv.recycle {
			st.receiveFn, st.sendFn = st.receive, st.send
		}
		return st
	}
	st := l.freeH1[n-1]
	l.freeH1[n-1] = nil
	l.freeH1 = l.freeH1[:n-1]
	return st
}

// recycle gives the stream of an inline call back to its loop for the next request,
// when the app keeps nothing of its inline calls (asgi.Recycler) and nothing on the
// server's side points to the stream any more: the response is done on the loop and
// went out whole. The body queue, if any, was released then (responseDone); its first
// buffer, which the app no longer holds, is kept for the next body (keepSpare). The
// stream is reset at once, so a free stream holds no connection. Called last, once the
// call and the loop are done with it. Loop only.
func (st *h1Stream) recycle() {
	l := st.c.loop
	if !l.srv.recycle || st.sendFn == nil || !st.doneOnLoop || st.abort ||
		len(l.freeH1) >= maxFreeStreams {
		return
	}
	buf, headers, body := st.scopeBuf[:0], st.scopeVal.Headers[:0], st.body
	if body == nil {
		body = st.spareBody
	} else {
		body.keepSpare()
	}
	if cap(buf) > maxRecycledScopeBytes {
		buf = nil
	}
	if cap(headers) > maxRecycledHeaders {
		headers = nil
	}
	*st = h1Stream{scopeBuf: buf, receiveFn: st.receiveFn, sendFn: st.sendFn, spareBody: body}
	st.scopeVal.Headers = headers
	l.freeH1 = append(l.freeH1, st)
}

// inbox returns the body queue, made at the first body bytes (a request without a
// body keeps its stream 136 bytes smaller). c.mu held.
func (st *h1Stream) inbox() *bodyQueue {
	if st.body == nil {
		srv := st.c.srv
		q := st.spareBody
		if q == nil {
			q = new(bodyQueue)
		}
		st.spareBody = nil
		*q = bodyQueue{length: st.bodyLength, spoolLimit: srv.cfg.BodySpoolBytes, disk: &srv.bodySpool,
			pooled: st.poolBody, reusable: st.inlineAtEnd && srv.recycle, spare: q.spare}
		st.body = q
	}
	return st.body
}

// isFinished reports whether the response is complete: the app has finished it and
// the file of a pathsend sent with sendfile is written.
func (st *h1Stream) isFinished() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.finished && !st.c.fileQueuedLocked()
}

func (st *h1Stream) aborted() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.abort
}

func (st *h1Stream) headWritten() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return st.resp.HeadWritten()
}

func (st *h1Stream) keepAlive() bool {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	return !st.forceClose && st.resp.KeepAlive()
}

func (st *h1Stream) setClose() {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	st.forceClose = true
	st.resp.SetClose()
}

// receive is the app's Receive.
func (st *h1Stream) receive(ctx context.Context) (asgi.Message, error) {
	c := st.c
	c.mu.Lock()
	for {
		if st.gone || st.bodyErr {
			c.mu.Unlock()
			return &asgi.HTTPDisconnect{}, nil
		}
		if b, err := st.body.pop(); b != nil || err != nil {
			more := !st.bodyDone || !st.body.empty()
			if !more {
				st.deliveredEnd = true
			}
			c.mu.Unlock()
			if err != nil {
				return nil, fmt.Errorf("eventloop: reading spooled body: %w", err)
			}
			return &asgi.HTTPRequest{Body: b, MoreBody: more}, nil
		}
		if st.bodyDone && !st.deliveredEnd {
			st.deliveredEnd = true
			c.mu.Unlock()
			return &asgi.HTTPRequest{}, nil
		}
		if st.deliveredEnd && st.finished {
			c.mu.Unlock()
			return &asgi.HTTPDisconnect{}, nil
		}
		if st.inline {
			c.mu.Unlock()
			return nil, errInlineWouldBlock
		}
		if st.expect100 && !st.sentContinue && !st.resp.HeadWritten() {
			st.sentContinue = true
			c.pending = append(c.pending, h1.Continue100...)
			c.scheduleFlushLocked()
		}
		if st.recvWait == nil {
			st.recvWait = make(chan struct{})
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

// wakeReceiverLocked wakes a receive blocked on the inbox. c.mu must be held.
func (st *h1Stream) wakeReceiverLocked() {
	if st.recvWait != nil {
		close(st.recvWait)
		st.recvWait = nil
	}
}

// pushBody queues body bytes for the app. An error means the body cannot be kept
// (spool quota, spool failure): the caller refuses it (refuseBody).
func (st *h1Stream) pushBody(b []byte) error {
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.discarding || st.gone {
		return nil
	}
	err := st.inbox().push(b, c.srv.cfg.BodyMemoryBytes, &c.srv.bodyShared)
	if err != nil {
		st.bodyErr = true
	}
	st.wakeReceiverLocked()
	return err
}

func (st *h1Stream) endBody() {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	st.bodyDone = true
	st.wakeReceiverLocked()
}

func (st *h1Stream) bodyTooLarge() {
	c := st.c
	c.srv.log.Warn("request body too large", "client", c.gc.RemoteAddr(), "limit", c.srv.cfg.MaxBodyBytes)
	c.loop.stats.reject(RejectBodyTooLarge)
	st.refuseBody(413, "request body too large")
}

// spoolFailed refuses a body that pushBody could not keep: 413 beyond the request's
// spool quota, 503 when the server-wide quota is used up or the temporary file
// failed. It logs one line: the connection reads no more of the body and closes.
func (st *h1Stream) spoolFailed(err error) {
	c := st.c
	if errors.Is(err, errSpoolQuota) {
		c.loop.stats.reject(RejectBodyTooLarge)
	} else {
		c.loop.stats.reject(RejectSpool)
	}
	switch {
	case errors.Is(err, errSpoolQuota):
		c.srv.log.Warn("request body beyond the spool quota; refusing it", "client", c.gc.RemoteAddr(),
			"received", st.received, "limit", c.srv.cfg.BodySpoolBytes)
		st.refuseBody(413, "request body too large")
	case errors.Is(err, errSpoolFull):
		c.srv.log.Warn("server-wide request-body spool quota used up; refusing a body", "client", c.gc.RemoteAddr(),
			"received", st.received, "limit", c.srv.cfg.BodySpoolShared)
		st.refuseBody(503, "server cannot store the request body now")
	default:
		c.srv.log.Error("spooling request body failed; refusing it", "client", c.gc.RemoteAddr(), "err", err)
		st.refuseBody(503, "server cannot store the request body now")
	}
}

// refuseBody stops reading the request's body: status with Connection: close if the
// response has not started (then the connection closes after it), else the connection
// is aborted. Loop only.
func (st *h1Stream) refuseBody(status int, reason string) {
	c := st.c
	c.mu.Lock()
	answered := !st.resp.HeadWritten() && !st.finished
	if answered {
		c.pending = h1.AppendError(c.pending, status, reason)
		st.finished, st.status = true, status
	}
	c.mu.Unlock()
	st.disconnect() // the server answered: the app's later output is dropped
	st.h.reading = nil
	st.h.releaseParser(c)
	if !answered {
		c.markGone()
		c.closeNow()
		return
	}
	c.closeAfterFlush()
}

func (st *h1Stream) discardBody() {
	st.c.mu.Lock()
	defer st.c.mu.Unlock()
	st.discarding = true
	st.body.release()
}

// disconnect tells the app its client is gone. Loop only.
func (st *h1Stream) disconnect() {
	c := st.c
	c.mu.Lock()
	st.gone = true
	st.body.release()
	st.wakeReceiverLocked()
	c.mu.Unlock()
	st.callCtx.cancel()
}

// send is the app's Send.
func (st *h1Stream) send(ctx context.Context, msg asgi.Message) error {
	if ps, ok := msg.(*asgi.HTTPResponsePathsend); ok {
		return sendPath(ctx, st, ps)
	}
	c := st.c
	if err := lockForSend(c, &st.gone, &st.ended, &st.order, msg); err != nil {
		return err
	}
	var err error
	var ref *refBody
	queued := len(c.pending)
	switch m := msg.(type) {
	case *asgi.HTTPResponseEarlyHint:
		// The current response leads the pending output (pipelined requests are
		// parsed only after it), so the 103 leaves before its final response. An
		// HTTP/1.0 client cannot take an informational response: the hint is dropped.
		if st.protoMinor >= 1 {
			c.pending = h1.AppendEarlyHints(c.pending, m.Links)
		}
	case *asgi.HTTPResponseStart:
		st.status = m.Status
		err = st.resp.Begin(st.protoMinor, st.isHead, st.reqKeep && !st.forceClose, m.Status, m.Headers, m.Trailers)
		if st.forceClose {
			st.resp.SetClose()
		}
		if st.inline {
			// Answered in the loop's turn that parsed the request: its clock reading
			// gives the Date (nginx, too, reads the clock once per turn).
			st.resp.SetNow(time.Unix(0, st.started))
		}
	case *asgi.HTTPResponseBody:
		if st.expect100 && !st.sentContinue && !st.bodyDone && !st.resp.HeadWritten() {
			// Answered without asking for the body: the client may never send it,
			// so the connection cannot be reused (as net/http does).
			st.resp.SetClose()
			st.forceClose = true
		}
		ref, err = st.appendBodyLocked(m.Body, m.MoreBody)
	case *asgi.HTTPResponseTrailers:
		if m.MoreTrailers {
			c.pending, err = st.resp.AppendTrailersPart(c.pending, m.Headers)
		} else {
			c.pending, err = st.resp.AppendTrailers(c.pending, m.Headers)
		}
	}
	if err != nil {
		st.abort = st.resp.HeadWritten()
	}
	if st.order.State == asgi.HTTPResponseComplete || err == nil && st.resp.WireComplete() {
		st.finished = true
	}
	if !st.inline && (len(c.pending) != queued || st.finished || st.abort) {
		c.scheduleFlushLocked() // http.response.start alone writes nothing yet
	}
	c.mu.Unlock()
	if ref != nil {
		c.awaitRef(ctx, ref)
	}
	if err != nil {
		return err
	}
	if st.inline || st.finished {
		return nil
	}
	return c.waitWritable(ctx)
}

// appendBodyLocked frames body into the pending output, or around it when it goes by
// reference (refbody.go): then it returns the handle to wait on once c.mu is released.
// c.mu must be held.
func (st *h1Stream) appendBodyLocked(body []byte, more bool) (ref *refBody, err error) {
	c := st.c
	if !st.isHead {
		st.bodyBytes += int64(len(body))
	}
	n := len(c.pending)
	if len(body) < minRefBody || st.inline {
		c.growForBody(len(body))
		c.pending, err = st.resp.AppendBody(c.pending, body, more)
	} else {
		var write bool
		c.pending, write, err = st.resp.AppendBodyHead(c.pending, int64(len(body)), more)
		if err == nil && write {
			if ref = c.queueRefLocked(body); ref != nil {
				st.sentBytes += int64(len(body))
			} else { // copied after all (TLS, shared frames queued)
				c.growForBody(len(body))
				c.pending = append(c.pending, body...)
			}
			c.pending = st.resp.AppendBodyTail(c.pending, int64(len(body)), more)
		}
	}
	st.sentBytes += int64(len(c.pending) - n)
	return ref, err
}

// checkSend is the order check of httpStream.
func (st *h1Stream) checkSend(msg asgi.Message) error {
	return checkSend(st.c, &st.gone, &st.ended, &st.order, msg)
}

// writeBody is the body writer of httpStream.
func (st *h1Stream) writeBody(ctx context.Context, b []byte, last bool) error {
	more := !last
	c := st.c
	c.mu.Lock()
	if st.gone || c.gone {
		c.mu.Unlock()
		return asgi.ErrDisconnected
	}
	ref, err := st.appendBodyLocked(b, more)
	if err != nil {
		st.abort = true
	}
	if !more && st.order.State == asgi.HTTPResponseComplete || err == nil && st.resp.WireComplete() {
		st.finished = true
	}
	if !st.inline {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	if ref != nil {
		c.awaitRef(ctx, ref)
	}
	if err != nil || st.inline || st.finished {
		return err
	}
	return c.waitWritable(ctx)
}
