package eventloop

import "context"

// Large response bodies by reference: an HTTP/1.1 body of at least minRefBody bytes,
// sent from an app goroutine on a cleartext connection, is not copied into the
// pending output. The pending output records where it goes, and the loop's flush hands
// gnet the three pieces at once (writev): the socket takes what it can straight from
// the app's buffer, and gnet copies only the rest. Send does not retain the app's
// bytes, so the sender waits until the loop has done that, as net/http's Write waits
// for the socket. Output that leaves another way (behind shared frames, through TLS)
// copies the body into the pending output first; a connection that is gone drops it.

// minRefBody is the smallest body sent by reference: below it the copy costs less than
// the sender's wait for the loop.
const minRefBody = maxSpareCap

// refBody is a connection's body queued by reference. Guarded by the connection's mu.
type refBody struct {
	b       []byte        // the app's bytes; nil once the loop wrote or copied them
	at      int           // their place in the pending output
	waiting bool          // a sender waits on done: the slot is taken
	done    chan struct{} // capacity 1: the loop no longer refers to b
}

// queueRefLocked queues body by reference at the end of the pending output and returns
// the handle to wait on (awaitRef), or nil when the body must be copied: the
// connection's output leaves through TLS or behind shared frames, or another body
// holds the slot. c.mu must be held.
func (c *conn) queueRefLocked(body []byte) *refBody {
	if c.tls != nil || c.hasShared {
		return nil
	}
	r := c.ref
	if r == nil {
		r = &refBody{done: make(chan struct{}, 1)}
		c.ref = r
	} else if r.waiting {
		return nil
	}
	r.b, r.at, r.waiting = body, len(c.pending), true
	c.scheduleFlushLocked() // the framing around the body may be empty
	return r
}

// takeRefLocked hands the queued body to the caller, which writes it and then calls
// r.release. It returns nil when none is queued. c.mu must be held.
func (c *conn) takeRefLocked() (r *refBody, body []byte, at int) {
	r = c.ref
	if r == nil || r.b == nil {
		return nil, nil, 0
	}
	body, at = r.b, r.at
	r.b = nil
	return r, body, at
}

// release tells the sender that its bytes are no longer referred to.
func (r *refBody) release() { r.done <- struct{}{} }

// copyRefLocked puts the queued body's bytes into the pending output, in their place,
// and releases the sender: for output that does not leave through flush's writev.
// c.mu must be held.
func (c *conn) copyRefLocked() {
	r, body, at := c.takeRefLocked()
	if r == nil {
		return
	}
	out := getLargeBuf(len(c.pending) + len(body))
	out = append(append(append(out, c.pending[:at]...), body...), c.pending[at:]...)
	if cap(c.pending) > maxSpareCap {
		putLargeBuf(c.pending)
	}
	c.pending = out
	r.release()
}

// dropRefLocked forgets the queued body (the connection is gone) and releases its
// sender. c.mu must be held.
func (c *conn) dropRefLocked() {
	if r, _, _ := c.takeRefLocked(); r != nil {
		r.release()
	}
}

// writeRef writes buf with body in its place at, from the loop's flush: the socket
// takes what it can, gnet copies the rest (rawio.go). It reports false when the socket
// failed. Loop only.
func (c *conn) writeRef(buf, body []byte, at int) bool {
	iov := &c.loop.iov
	iov[0], iov[1], iov[2] = buf[:at], body, buf[at:]
	ok := c.writevOut(iov[:])
	*iov = [3][]byte{}
	return ok
}

// awaitRef waits until the loop no longer refers to r's body. If ctx ends first and
// the loop has not taken the body yet, it is copied instead: either way the app's bytes
// are free when awaitRef returns.
func (c *conn) awaitRef(ctx context.Context, r *refBody) {
	select {
	case <-r.done:
	case <-ctx.Done():
		c.mu.Lock()
		if r.b != nil {
			c.copyRefLocked()
		}
		c.mu.Unlock()
		<-r.done
	}
	c.mu.Lock()
	r.waiting = false
	c.mu.Unlock()
}
