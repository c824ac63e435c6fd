package eventloop

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// session is the protocol spoken on a connection: HTTP/1.1 first (firstSession), then
// HTTP/2 or WebSocket after a switch (upgrade.go). The transport (conn, server, loop)
// knows sessions only through this interface. Every method runs on the connection's
// loop goroutine, inside loop.guard (a panic closes only this connection); none may
// block. See doc.go for who calls each one.
type session interface {
	// onData handles the connection's whole unread input and returns how many bytes
	// it consumed; the rest stays buffered in gnet until more arrives or the
	// connection is woken. A non-nil error closes the connection (the session has
	// already queued whatever answer it owes). A session that switches the
	// connection to another (c.session) sees the rest of the input go to the new one.
	onData(c *conn, data []byte) (int, error)
	// onFlushed runs after the pending output (also what app goroutines queued) was
	// handed to gnet: the session completes work that waited for its output, such
	// as an HTTP/1.1 response that frees the connection for the next request.
	onFlushed(c *conn)
	// onTimer is called when the connection's timer fires.
	onTimer(c *conn)
	// onDrain asks the session to finish gracefully (server shutdown): stop taking
	// new work, let work in flight complete, then close.
	onDrain(c *conn)
	// onClose is called once when the connection is gone (or lingering: closed for
	// the session, see linger).
	onClose(c *conn)
}

// conn is asgo's state for one gnet connection.
type conn struct {
	gc    gnet.Conn
	loop  *loop
	srv   *Server
	timer timerNode
	// Owned by the loop goroutine:
	session      session
	tls          *tlsConn // nil on a cleartext connection
	prev, next   *conn    // the loop's list of open connections
	lastOutbound int      // OutboundBuffered at the previous poll
	// written counts the bytes handed to gnet; written minus OutboundBuffered is what
	// the socket took. sentMark is that at the last progress, at wheel tick sentAt
	// (Config.SendTimeout). overCap counts bytes queued while more than
	// MaxUnsentBytes were unsent (reset once below).
	written, sentMark, sentAt int64
	overCap                   int
	client, server            *asgi.Addr
	closing                   bool // close as soon as the output has drained
	lingering                 bool // output done and write side shut: input is discarded until EOF
	closed                    bool
	watched                   bool // in loop.watch: polled until output drains
	needWake                  bool // unconsumed input waits for the session to become ready
	yielded                   bool // the session used up its turn with input left: resume it
	listedYield               bool // in loop.listed for a turn
	listedFlush               bool // in loop.listed for a deferred flush

	// Guarded by mu (the flags sit beside the loop's: an idle connection costs memory):
	flushQueued bool // a flush is scheduled on the loop
	gone        bool // connection closed: sends fail
	hasShared   bool // output waits in the loop's shared map (shared.go)
	mu          sync.Mutex
	pending     []byte        // output produced off the loop, not yet handed to gnet
	ref         *refBody      // a large body queued by reference within pending (refbody.go)
	drainWait   chan struct{} // closed when unsent output falls below the low-water mark

	// outbound is gnet's OutboundBuffered as last seen by the loop.
	outbound atomic.Int64
}

// queue appends b to the connection's pending output. Safe for concurrent use; on the
// loop the caller flushes at the end of the event, off the loop call queueAndFlush.
func (c *conn) queue(b []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return false
	}
	c.pending = append(c.pending, b...)
	return true
}

// scheduleFlushLocked makes the loop flush the pending output soon; mu must be held.
func (c *conn) scheduleFlushLocked() {
	if c.flushQueued || c.gone {
		return
	}
	c.flushQueued = true
	if err := c.loop.queueFlush(c); err != nil {
		// The engine is stopping: the connection is about to be closed anyway.
		c.flushQueued = false
	}
}

// queueFlush lists c for the loop's next flush batch, handing the batch to gnet when it
// is the first in it. Any goroutine; c.mu held.
func (l *loop) queueFlush(c *conn) error {
	l.flushMu.Lock()
	first := len(l.flushes) == 0
	l.flushes = append(l.flushes, c)
	l.flushMu.Unlock()
	if !first {
		return nil
	}
	return l.el.Execute(context.Background(), (*flushBatch)(l))
}

// flushBatch is a loop as the gnet.Runnable that flushes the connections listed by
// queueFlush: a pointer conversion, so scheduling allocates no closure.
type flushBatch loop

func (t *flushBatch) Run(context.Context) error {
	l := (*loop)(t)
	l.flushMu.Lock()
	list := l.flushes
	l.flushes = l.flushSpare[:0]
	l.flushMu.Unlock()
	// A flush that lists its connection again (more output came meanwhile) starts a
	// new batch: it runs after the loop's other tasks, as before.
	for i, c := range list {
		list[i] = nil
		l.guard(c, c.flush)
	}
	l.flushSpare = list[:0] // only this task, on the loop, touches the spare
	return nil
}

// flush hands pending output to gnet, which writes it at once or buffers what the
// socket does not take. Loop goroutine only.
func (c *conn) flush() {
	if c.closed || c.lingering {
		return
	}
	if c.tls != nil {
		c.flushTLS()
		return
	}
	c.mu.Lock()
	if c.hasShared {
		// Shared frames are queued: the pending output goes behind them (shared.go).
		if c.loop.sharedSpent >= c.srv.sharedRound && c.loop.deferFlushLocked(c) {
			c.mu.Unlock()
			return
		}
		again, err := c.writeSharedLocked()
		c.flushQueued = false
		if again {
			c.scheduleFlushLocked() // after the loop's other events: fair to them
		}
		c.mu.Unlock()
		if err != nil {
			c.markGone()
			c.closeNow()
			return
		}
	} else {
		buf := c.pending
		r, body, at := c.takeRefLocked()
		if len(buf) > 0 || r != nil {
			c.pending = nil
		} // else an empty buffer stays: a response in progress encodes into it (seedPending)
		c.flushQueued = false
		c.mu.Unlock()
		if n := len(buf) + len(body); n > 0 {
			if int(c.outbound.Load()) > c.srv.cfg.MaxUnsentBytes && c.gc.OutboundBuffered() > c.srv.cfg.MaxUnsentBytes {
				c.overCap += n // queued on top of a backlog over the limit
			}
			c.loop.writes++
			var ok bool
			if r != nil {
				ok = c.writeRef(buf, body, at)
				r.release()
			} else {
				ok = c.writeOut(buf)
			}
			c.written += int64(n)
			c.loop.recycle(buf)
			if !ok {
				c.abort()
				return
			}
		}
	}
	c.afterWrite()
	if !c.closed {
		c.session.onFlushed(c)
	}
}

// afterWrite records the outbound size, wakes blocked senders, finishes a pending
// close once everything was written, and has the loop poll the connection while
// output is unsent (drain, MaxUnsentBytes, SendTimeout). Loop goroutine only.
func (c *conn) afterWrite() {
	ob := c.gc.OutboundBuffered()
	c.outbound.Store(int64(ob))
	c.mu.Lock()
	shared := c.sharedBytesLocked()
	unsent := ob + len(c.pending) + shared
	if c.drainWait != nil && unsent <= c.srv.cfg.WriteLowWater {
		close(c.drainWait)
		c.drainWait = nil
	}
	c.mu.Unlock()
	if c.closing && unsent == 0 {
		c.linger()
		return
	}
	if unsent <= c.srv.cfg.MaxUnsentBytes {
		c.overCap = 0
	} else if c.overCap > c.srv.cfg.MaxUnsentBytes {
		c.srv.log.Warn("client does not read its output, which keeps growing; closing",
			"client", c.gc.RemoteAddr(), "unsent", unsent, "limit", c.srv.cfg.MaxUnsentBytes)
		c.abort()
		return
	}
	if ob > 0 || shared > 0 {
		c.loop.watchConn(c, ob) // polled until drained; shared frames are written there
	}
}

// sendStalled reports whether the connection's unsent output (ob bytes in gnet) has
// made no progress for SendTimeout, updating the progress mark. Loop goroutine only.
func (c *conn) sendStalled(ob int) bool {
	sent := c.written - int64(ob)
	if sent != c.sentMark {
		c.sentMark, c.sentAt = sent, c.loop.wheel.now
		return false
	}
	timeout := c.srv.cfg.SendTimeout
	return timeout > 0 && time.Duration(c.loop.wheel.now-c.sentAt)*c.loop.wheel.tick >= timeout
}

// abort closes the connection at once, dropping unsent output; its session and apps
// see the disconnect. Loop goroutine only.
func (c *conn) abort() {
	c.markGone()
	c.closeNow()
}

// waitWritable blocks an app goroutine while the connection has more unsent output than
// the high-water mark. It returns asgi.ErrDisconnected once the connection is gone.
// Callers skip it after a response's final message: that output is already accepted,
// and a client that reads it all and leaves must not turn a complete response into
// an error.
func (c *conn) waitWritable(ctx context.Context) error {
	c.mu.Lock()
	for !c.gone && c.unsentLocked() > c.srv.cfg.WriteHighWater {
		if c.drainWait == nil {
			c.drainWait = make(chan struct{})
			// The loop may have flushed already and seen no waiter, and gnet reports
			// no drain: a flush makes the loop see this one and poll until it drains.
			c.scheduleFlushLocked()
		}
		ch := c.drainWait
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
	gone := c.gone
	c.mu.Unlock()
	if gone {
		return asgi.ErrDisconnected
	}
	return nil
}

// seedPending gives the pending output a spare buffer of the loop when it has none, so
// a response encoded off the loop does not allocate its own. Loop goroutine only.
func (c *conn) seedPending() {
	c.mu.Lock()
	if c.pending == nil {
		c.pending = c.loop.takeBuf()
	}
	c.mu.Unlock()
}

// closeAfterFlush closes the connection once all output has been written. Loop only.
func (c *conn) closeAfterFlush() {
	if c.closing || c.closed {
		return
	}
	c.closing = true
	c.loop.wheel.arm(&c.timer, time.Now().Add(c.srv.cfg.BodyTimeout))
	c.mu.Lock()
	queued := c.flushQueued
	c.mu.Unlock()
	if !queued {
		c.flush()
	}
}

// linger ends a connection whose output is all written: it shuts the write side (the
// client reads the response, then EOF) and discards input until the client's EOF or
// LingerTimeout, then closes. Closing at once would make the kernel answer input still
// in flight (a pipelined request, an h2 PING after GOAWAY, the rest of a refused body)
// with a reset, which can destroy the response before the client has read it: the
// lingering close of nginx and Apache. Loop goroutine only.
func (c *conn) linger() {
	if c.lingering || c.closed {
		return
	}
	if c.srv.cfg.LingerTimeout <= 0 || unix.Shutdown(c.gc.Fd(), unix.SHUT_WR) != nil {
		c.closeNow()
		return
	}
	c.lingering = true
	c.markGone()
	c.session.onClose(c) // for the session and its apps the connection is over
	_, _ = c.gc.Discard(-1)
	c.setTimer(c.srv.cfg.LingerTimeout)
}

// closeNow closes the connection, dropping unsent output. Loop goroutine only.
func (c *conn) closeNow() {
	if c.closed {
		return
	}
	c.closed = true
	_ = c.gc.Close()
}

// setTimer arms the connection's single timer d from now; d <= 0 disarms it.
// Loop goroutine only.
func (c *conn) setTimer(d time.Duration) {
	if d <= 0 {
		c.loop.wheel.disarm(&c.timer)
		return
	}
	c.loop.wheel.armAt(&c.timer, c.loop.clock().UnixNano()+int64(d))
}

// markGone fails every later send and wakes blocked senders. Loop goroutine only.
func (c *conn) markGone() {
	c.mu.Lock()
	c.gone = true
	c.pending = nil
	c.dropRefLocked()
	c.dropSharedLocked()
	if c.drainWait != nil {
		close(c.drainWait)
		c.drainWait = nil
	}
	c.mu.Unlock()
}

// wake makes gnet call OnTraffic again so input left unconsumed is processed, e.g. the
// next pipelined request once the current response is complete. Safe for concurrent
// use.
func (c *conn) wake() {
	_ = c.gc.Wake(nil)
}

// addrs returns the client and server addresses (computed once; an adopted
// listener's connection has them set in OnOpen). Loop only.
func (c *conn) addrs() (client, server *asgi.Addr) {
	if c.server == nil {
		c.client = toAddr(c.gc.RemoteAddr())
		c.server = toAddr(c.gc.LocalAddr())
	}
	return c.client, c.server
}

// onTraffic feeds the unread input to the current session. A session that used up its
// turn (c.yielded: see h1Session's turn budget) leaves the rest unconsumed; the
// connection continues on the loop's next poll, after the others' events (resume.go).
// Loop goroutine only.
func (c *conn) onTraffic() {
	if c.tls != nil {
		c.onTLSTraffic() // tls.go
		return
	}
	l := c.loop
	l.now = time.Now()
	defer func() { l.now = time.Time{} }()
	data, _ := c.gc.Peek(-1)
	for len(data) > 0 || c.needWake {
		c.needWake = false
		sess := c.session
		n, err := sess.onData(c, data)
		if n > 0 {
			_, _ = c.gc.Discard(n)
			data = data[n:]
		}
		if err != nil {
			c.closeAfterFlush()
			break
		}
		if c.session == sess || c.closed || c.closing {
			break // same session: it consumed what it could
		}
		// The session switched (upgrade.go): let the new one see the rest at once.
	}
	if c.tls != nil && !c.closed && len(data) > 0 {
		c.onTLSTraffic() // a PROXY header came first; the TLS handshake has begun
		return
	}
	c.flush()
	if c.yielded {
		c.yielded = false
		if !c.closed {
			l.yield(c)
		}
	}
}
