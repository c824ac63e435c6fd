package eventloop

import (
	"errors"
	"fmt"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
)

// h1Session is the HTTP/1.1 session of a connection. Requests are parsed on the loop;
// each runs its app on an executor goroutine, or on the loop when the app can answer
// the scope without blocking (asgi.Inliner) and the request has no body. Responses
// leave strictly in request order: the next pipelined request is parsed only once the
// current response is complete. An inline response is complete when its app returns,
// so a batch of pipelined requests for inline apps is answered in one pass and leaves
// in one write; a request for a goroutine app holds the requests behind it until its
// response is complete. One traffic callback does at most a turn's work (turnRequests,
// turnBytes), then yields the loop to the other connections. Owned by the loop
// goroutine.
type h1Session struct {
	parser   *h1.Parser // held only while a request is being parsed
	active   *h1Stream  // request whose response is in progress
	reading  *h1Stream  // request whose body is being read (nil after its end)
	requests int        // requests seen on this connection
	draining bool
}

// The turn budget: the work one connection may do in one traffic callback before the
// loop serves the other connections' events. A client that pipelines thousands of
// requests (or whose backlog waited behind a slow response) would otherwise hold the
// loop, and every other connection on it, for the whole batch. Past the budget the
// session leaves the rest of the input unconsumed and the connection goes on at the
// loop's next poll, after the other connections' events (conn.yielded, resume.go). The
// byte budget is above gnet's read size (64 KiB), so a turn always takes what one read
// brought. (A larger gnet read buffer helped large bodies until readBodyDirect: with it,
// gnet's 64 KiB reads leave more of a body to the direct read, post-1m +12%.)
const turnBytes = 256 << 10 // input bytes consumed per turn, bodies included

// turnRequests is how many requests a turn starts. A variable only so that the
// fairness test can start a server without the budget (New copies it).
var turnRequests = 128

func (h *h1Session) onData(c *conn, data []byte) (int, error) {
	consumed, started := 0, 0
	for !c.closing && !c.closed {
		if h.active != nil && h.reading == nil {
			if ahead := len(data) - consumed; h.cutAhead(c, ahead) {
				return consumed, nil
			} else if ahead > 0 {
				c.needWake = true // resume once the response is complete
			}
			return consumed, nil
		}
		if consumed < len(data) && (started >= c.srv.turnRequests || consumed >= turnBytes) {
			if !h.cutAhead(c, len(data)-consumed) {
				c.yielded = true
			}
			return consumed, nil
		}
		if h.parser == nil {
			if consumed == len(data) || h.draining {
				return consumed, nil
			}
			if h.requests == 0 && h.startsHTTP2(c, data[consumed:]) {
				return consumed, nil
			}
			h.parser = c.loop.getParser()
			c.setTimer(c.srv.cfg.HeaderTimeout)
		}
		n, ev, err := h.parser.Parse(data[consumed:])
		consumed += n
		if err != nil {
			return consumed, h.badRequest(c, err)
		}
		switch ev {
		case h1.EventNone:
			return consumed, h.checkPartialHead(c, len(data)-consumed)
		case h1.EventHead:
			started++
			if err := h.onHead(c, len(data)-consumed); err != nil {
				return consumed, err
			}
		case h1.EventBody:
			h.onBody(c, h.parser.Body())
			if consumed == len(data) && len(data) >= directReadMin {
				h.readBodyDirect(c) // the loop goes on: the body may be complete now
			}
		case h1.EventEnd:
			h.onEnd(c)
		}
	}
	return consumed, nil
}

// cutAhead closes a connection whose client has sent more than MaxPipelinedBytes
// ahead of the request being answered, and reports whether it did.
func (h *h1Session) cutAhead(c *conn, ahead int) bool {
	if ahead <= c.srv.cfg.MaxPipelinedBytes {
		return false
	}
	c.srv.log.Warn("client pipelines too much input without reading; closing",
		"client", c.gc.RemoteAddr(), "buffered", ahead, "limit", c.srv.cfg.MaxPipelinedBytes)
	if h.active != nil {
		h.active.disconnect()
	}
	c.markGone()
	c.closeNow()
	return true
}

// checkPartialHead refuses a head that keeps growing without completing. The parser
// enforces the head limit on what it has seen; this also covers bytes that gnet
// buffered beyond it.
func (h *h1Session) checkPartialHead(c *conn, unconsumed int) error {
	if h.reading != nil || unconsumed <= c.srv.cfg.HTTP1.MaxHeadBytes+h1MaxHeadSlack {
		return nil
	}
	return h.badRequest(c, h1.ErrHeadTooLarge)
}

const h1MaxHeadSlack = 64 << 10

// badRequest answers a protocol error with its status and closes the connection.
func (h *h1Session) badRequest(c *conn, err error) error {
	status, reason := 400, err.Error()
	var pe *h1.Error
	if errors.As(err, &pe) {
		status = pe.Status
	}
	c.srv.log.Info("bad HTTP/1.1 request", "client", c.gc.RemoteAddr(), "status", status, "err", reason)
	c.loop.stats.rejectStatus(status)
	if h.active == nil || !h.active.headWritten() {
		c.queue(h1.AppendError(nil, status, reason))
	}
	if h.active != nil {
		h.active.disconnect() // the server answered: the app's output is dropped
	}
	h.releaseParser(c)
	return err
}

func (h *h1Session) releaseParser(c *conn) {
	if h.parser != nil {
		c.loop.putParser(h.parser)
		h.parser = nil
	}
}

// maxInlineBody is the largest request body with which an app may still run inline: the
// body must be complete in the input at hand, and it is queued before the app starts.
const maxInlineBody = 64 << 10

// onHead starts a request: builds the scope and runs the app (inline or on a goroutine).
// avail is the input after the request head.
func (h *h1Session) onHead(c *conn, avail int) error {
	req := h.parser.Request()
	h.requests++
	cfg := &c.srv.cfg
	if cfg.MaxBodyBytes > 0 && req.ContentLength > cfg.MaxBodyBytes {
		return h.reject(c, 413, "request body too large")
	}
	if h.upgrade(c, req) {
		return nil
	}
	if cfg.LimitConcurrency > 0 && c.srv.inflight.Load() >= int64(cfg.LimitConcurrency) {
		return h.reject(c, 503, "server is at its concurrency limit")
	}
	buffered := !req.Chunked && req.ContentLength > 0 && req.ContentLength <= min(int64(avail), maxInlineBody)
	h.start(c, newH1Stream(c, h, req), req.ContentLength > 0 || req.Chunked, buffered)
	return nil
}

// start makes st the active request and runs its app: inline on the loop when the app
// allows it and the request has no body, or its whole body is in the input at hand
// (buffered: the app then runs at the body's end, see onEnd); else on the executor. The
// uwsgi session starts its requests here too. Loop only.
func (h *h1Session) start(c *conn, st *h1Stream, hasBody, buffered bool) {
	cfg := &c.srv.cfg
	st.proto = uint8(sessionProto(c.session))
	st.sendfileOK = c.tls == nil
	c.loop.stats.requestStarted(int(st.proto))
	h.active = st
	if hasBody {
		h.reading = st
		c.setTimer(cfg.BodyTimeout)
	} else {
		st.bodyDone = true
		c.setTimer(0)
	}
	if (!hasBody || buffered) && asgi.CanInline(c.srv.app, st.scope) {
		if hasBody {
			st.inlineAtEnd = true
			return
		}
		st.runInline()
		return
	}
	// A body that may fill pooled buffers is read into them when the app will keep none
	// of its chunks past the call (asgi.BodyRecycler): asked once, only for such bodies.
	st.poolBody = hasBody && (st.bodyLength == 0 || st.bodyLength > int64(bodyBufs.min)) &&
		asgi.CanRecycleBody(c.srv.app, st.scope)
	c.srv.inflight.Add(1)
	st.callCtx.detacher = st // only calls off the loop get one: an inline call runs to its return
	st.ctx = &st.callCtx
	st.resp.UseBuffer(c.loop.takeHeadBuf())
	c.seedPending()
	c.srv.exec.Go(st)
}

// reject answers a request the server refuses before the app sees it, then closes.
func (h *h1Session) reject(c *conn, status int, reason string) error {
	c.srv.log.Warn("request refused", "client", c.gc.RemoteAddr(), "status", status, "reason", reason)
	c.loop.stats.rejectStatus(status)
	c.queue(h1.AppendError(nil, status, reason))
	h.releaseParser(c)
	return fmt.Errorf("eventloop: %s", reason)
}

// directReadMin is the input of one traffic callback from which a body being read is
// likely to have more bytes waiting in the socket (readBodyDirect).
const directReadMin = 64 << 10

// directTurnBytes bounds what readBodyDirect reads in one turn. It is above turnBytes:
// the direct read costs the kernel's copy alone, and every byte it leaves in the socket
// comes back through gnet's buffer and push's copy (post-1m: a quarter of the body
// with a 256 KiB bound). At memory speed a turn of it still takes well under a
// millisecond.
const directTurnBytes = 1 << 20

// readBodyDirect reads more of a Content-Length body straight from the socket into its
// stream's queue, skipping gnet's buffer and the copy out of it: a large upload then
// costs the kernel's copy alone for most of its bytes. It reads until the socket is
// drained, at most directTurnBytes and what the stream may keep in memory (its own and
// the shared budget, as push); a body that outruns them, a TLS connection and every
// other case take gnet's path. Loop only.
func (h *h1Session) readBodyDirect(c *conn) {
	st := h.reading
	if st == nil || h.parser == nil || c.tls != nil {
		return
	}
	left := h.parser.BodyRemaining()
	if left == 0 {
		return
	}
	c.mu.Lock()
	if st.discarding || st.gone || st.bodyErr {
		c.mu.Unlock()
		return
	}
	n := st.inbox().readFrom(c.gc.Fd(), int(min(left, directTurnBytes)), c.srv.cfg.BodyMemoryBytes, &c.srv.bodyShared)
	if n > 0 {
		st.wakeReceiverLocked()
	}
	c.mu.Unlock()
	if n == 0 {
		return
	}
	h.parser.SkipBody(int64(n))
	st.received += int64(n)
	if max := c.srv.cfg.MaxBodyBytes; max > 0 && st.received > max {
		st.bodyTooLarge()
	}
}

func (h *h1Session) onBody(c *conn, b []byte) {
	st := h.reading
	if st == nil || len(b) == 0 {
		return
	}
	c.setTimer(c.srv.cfg.BodyTimeout)
	st.received += int64(len(b))
	if max := c.srv.cfg.MaxBodyBytes; max > 0 && st.received > max {
		st.bodyTooLarge()
		return
	}
	if err := st.pushBody(b); err != nil {
		st.spoolFailed(err)
	}
}

func (h *h1Session) onEnd(c *conn) {
	st := h.reading
	h.reading = nil
	h.releaseParser(c)
	if st != nil {
		st.endBody()
		if st.inlineAtEnd {
			st.inlineAtEnd = false
			st.runInline() // its body is all queued: receive never blocks
			h.armIdle(c)
			return
		}
		if h.active == st && st.isFinished() {
			h.responseDone(c, st)
			return
		}
	}
	h.armIdle(c)
}

// armIdle sets the timer that applies now: keep-alive when nothing is in progress,
// none while an app works on a response. Loop only.
func (h *h1Session) armIdle(c *conn) {
	switch {
	case h.active == nil && h.reading == nil && h.parser == nil:
		c.setTimer(c.srv.cfg.KeepAliveTimeout)
	case h.reading == nil && h.parser == nil:
		c.setTimer(0)
	}
}

// onFlushed finishes the active response once the app completed it. Loop only.
func (h *h1Session) onFlushed(c *conn) {
	if st := h.active; st != nil && st.isFinished() && !st.doneOnLoop {
		h.responseDone(c, st)
	}
}

// responseDone runs on the loop when the active response is complete (or aborted).
func (h *h1Session) responseDone(c *conn, st *h1Stream) {
	if st.doneOnLoop {
		return
	}
	if !st.logged {
		st.logged = true
		st.accessLog()
	}
	if h.reading == st && !st.aborted() && st.keepAlive() && !h.draining {
		// The app answered without reading the whole body: keep reading and
		// discarding it; onEnd comes back here, then the next request follows.
		st.discardBody()
		return
	}
	st.discardBody() // what the app left unread, with the shared memory it borrowed
	if h.reading == st {
		h.reading = nil
	}
	if h.reading == nil {
		// A bodiless request's parser still waits to report the request's end (the
		// loop stops parsing while a response is active); without this release the
		// connection would never count as idle: no keep-alive timeout, no drain.
		h.releaseParser(c)
	}
	st.doneOnLoop = true
	st.returnHeadBuf()
	h.active = nil
	if st.aborted() || !st.keepAlive() || h.draining {
		if st.aborted() {
			c.markGone()
			c.closeNow()
			return
		}
		c.closeAfterFlush()
		return
	}
	h.armIdle(c)
	if c.needWake {
		c.wake()
	}
}

func (h *h1Session) onTimer(c *conn) {
	switch {
	case h.reading != nil:
		c.srv.log.Info("request body timed out", "client", c.gc.RemoteAddr())
		c.loop.stats.reject(RejectTimeout)
		if !h.reading.headWritten() {
			c.queue(h1.AppendError(nil, 408, "request body timeout"))
		}
		h.reading.disconnect()
		h.releaseParser(c)
		c.closeAfterFlush()
	case h.parser != nil:
		c.srv.log.Info("request head timed out", "client", c.gc.RemoteAddr())
		c.loop.stats.reject(RejectTimeout)
		c.queue(h1.AppendError(nil, 408, "request header timeout"))
		h.releaseParser(c)
		c.closeAfterFlush()
	case h.active == nil:
		// Idle keep-alive connection, or a new one that never sent a byte.
		c.closeNow()
	}
}

func (h *h1Session) onDrain(c *conn) {
	if h.active == nil && h.parser == nil && c.srv.handover.Load() {
		// Upgrade: the client may be sending its next request right now; closing
		// would fail it. That request's response carries Connection: close (newStream),
		// and the keep-alive timeout closes the connection if none comes.
		return
	}
	h.draining = true
	if h.active == nil && h.parser == nil {
		c.closeAfterFlush()
		return
	}
	if h.active != nil {
		h.active.setClose()
	}
}

func (h *h1Session) onClose(c *conn) {
	if st := h.active; st != nil {
		st.disconnect()
		if !st.logged {
			st.logged = true
			st.accessLog()
		}
	}
	h.active, h.reading = nil, nil
	h.releaseParser(c)
}
