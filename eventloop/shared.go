package eventloop

import (
	"golang.org/x/sys/unix"
)

// Shared frames: output that many connections send (a WebSocket broadcast, see
// wsSession.SendPrepared) is one immutable byte slice that each connection's queue
// refers to instead of copying it. gnet copies whatever the socket does not take
// into its per-connection output buffer, so handing it a shared frame would cost a
// copy per slow connection; instead the connection writes its queue to the socket
// itself (writev, only while gnet's own output is empty, so the order holds) and
// keeps the rest, by reference, until the socket takes more: the loop retries at once
// while the socket drains fast (a reading peer), otherwise on its 10 ms tick, as it
// polls other draining connections. A connection that queued a
// shared frame thus costs O(1) memory for it, whatever the frame's size and however
// slowly its peer reads.
//
// A connection with shared frames queued has an entry in its loop's shared map; the
// bytes appended to its pending output meanwhile are moved into the same queue at
// each flush, so every byte leaves in the order it was queued.

// sharedQueue is a connection's output that waits behind (or is) a shared frame.
// Guarded by the connection's mu.
type sharedQueue struct {
	segs  []outSeg
	off   int // bytes of segs[0] already written
	bytes int // unwritten bytes in segs (those of files included)
	files int // file segments queued
}

// outSeg is one piece of a connection's queued output: bytes, or a file sent with
// sendfile (sendfile.go).
type outSeg struct {
	b     []byte
	owned bool      // the connection's own buffer (recycled once written), not a shared frame
	file  *pathFile // the rest of a file to send; b is nil
}

// sharedRoundBytes bounds what the flushes of shared frames (and files) write between
// two polls of a loop. A broadcast queues its frame to every member at once, gnet runs
// up to 256 flush tasks per poll, and each writes all its socket takes: eight 64 KiB
// broadcasts to non-reading members made one poll round write 256 x 512 KiB while the
// loop's other connections waited (a bystander's GET took 165 ms). Past the bound,
// flushes wait for the loop's next poll, after the other connections' events
// (deferFlushLocked). A variable only so that a test can start a server without the
// bound (New copies it).
var sharedRoundBytes = 2 << 20

// maxWriteSegs bounds the iovecs of one writev.
const maxWriteSegs = 64

// sharedLocked returns c's shared queue, nil if none. c.mu must be held.
func (c *conn) sharedLocked() *sharedQueue {
	if !c.hasShared {
		return nil
	}
	c.loop.sharedMu.Lock()
	q := c.loop.shared[c]
	c.loop.sharedMu.Unlock()
	return q
}

// sharedBytesLocked returns the unwritten bytes of c's shared queue. c.mu must be held.
func (c *conn) sharedBytesLocked() int {
	if q := c.sharedLocked(); q != nil {
		return q.bytes
	}
	return 0
}

// unsentLocked is c's output not yet written to the socket: gnet's (as last seen by
// the loop), the pending output and the shared queue. c.mu must be held.
func (c *conn) unsentLocked() int {
	return int(c.outbound.Load()) + len(c.pending) + c.sharedBytesLocked()
}

// unsentOnLoop is gnet's unsent output plus c's shared queue, for the closing
// connection's progress check. Loop only.
func (c *conn) unsentOnLoop() int {
	ob := c.gc.OutboundBuffered()
	c.mu.Lock()
	defer c.mu.Unlock()
	return ob + c.sharedBytesLocked()
}

// queueFileLocked queues the rest of the file f (at least one byte) behind the output
// queued so far, to be sent with sendfile; the queue closes f once it is sent or the
// connection is gone. c.mu must be held.
func (c *conn) queueFileLocked(f *pathFile) {
	q := c.queueLocked()
	q.segs = append(q.segs, outSeg{file: f})
	q.bytes += int(f.left)
	q.files++
}

// fileQueuedLocked reports whether a file waits in c's queue. c.mu must be held.
func (c *conn) fileQueuedLocked() bool {
	q := c.sharedLocked()
	return q != nil && q.files > 0
}

// queueLocked returns c's queue, created if needed, with the pending output moved
// into it. c.mu must be held.
func (c *conn) queueLocked() *sharedQueue {
	q := c.sharedLocked()
	if q == nil {
		q = new(sharedQueue)
		c.loop.sharedMu.Lock()
		if c.loop.shared == nil {
			c.loop.shared = make(map[*conn]*sharedQueue)
		}
		c.loop.shared[c] = q
		c.loop.sharedMu.Unlock()
		c.hasShared = true
	}
	q.takePendingLocked(c)
	return q
}

// queueSharedLocked queues frame, which is shared and never modified, behind the
// output queued so far. c.mu must be held.
func (c *conn) queueSharedLocked(frame []byte) {
	q := c.queueLocked()
	q.segs = append(q.segs, outSeg{b: frame})
	q.bytes += len(frame)
}

// takePendingLocked moves c's pending output behind the queue. c.mu must be held.
func (q *sharedQueue) takePendingLocked(c *conn) {
	c.copyRefLocked()
	if len(c.pending) > 0 {
		q.segs = append(q.segs, outSeg{b: c.pending, owned: true})
		q.bytes += len(c.pending)
		c.pending = nil
	}
}

// dropSharedLocked forgets c's shared queue (the connection is gone), closing its
// files. c.mu must be held.
func (c *conn) dropSharedLocked() {
	if !c.hasShared {
		return
	}
	if q := c.sharedLocked(); q != nil && q.files > 0 {
		for _, s := range q.segs {
			if s.file != nil {
				s.file.close()
			}
		}
		q.files = 0
	}
	c.loop.sharedMu.Lock()
	delete(c.loop.shared, c)
	c.loop.sharedMu.Unlock()
	c.hasShared = false
}

// fastDrain is how much one write must move for the connection to retry at once
// rather than on the next tick: a socket that took this much is draining fast (a
// reading peer), one that took less is waited for without spinning.
const fastDrain = 64 << 10

// writeSharedLocked writes as much of c's queue (with the pending output behind it)
// as the socket takes now, without blocking and without handing any of it to gnet.
// It reports whether the socket took at least fastDrain bytes with more queued (the
// caller schedules another flush at once), and returns a write error other than
// EAGAIN: the connection is broken. Loop only; c.mu must be held.
func (c *conn) writeSharedLocked() (again bool, err error) {
	q := c.sharedLocked()
	if q == nil {
		return false, nil
	}
	q.takePendingLocked(c)
	if c.gc.OutboundBuffered() > 0 {
		return false, nil // gnet's output goes first; the tick retries
	}
	written, fileSent := 0, int64(0)
	var iov [maxWriteSegs][]byte
	for q.bytes > 0 && c.loop.sharedSpent < c.srv.sharedRound {
		if f := q.segs[0].file; f != nil {
			if fileSent >= fileTurn {
				return true, nil // the rest on another flush, after the loop's other events
			}
			n, err := f.sendfile(c.gc.Fd(), fileTurn-fileSent)
			c.loop.sharedSpent += int(n)
			fileSent += n
			written += int(n)
			c.written += n
			q.bytes -= int(n)
			if f.left == 0 {
				f.close()
				q.files--
				q.segs[0] = outSeg{}
				q.segs = q.segs[1:]
			}
			if err == unix.EAGAIN {
				break // the socket is full
			}
			if err != nil {
				if err == errFileShrank {
					c.srv.log.Warn("file shrank while being sent; closing the connection", "client", c.gc.RemoteAddr())
				}
				return false, err
			}
			continue
		}
		k, offered := 0, 0
		for ; k < len(q.segs) && k < len(iov) && q.segs[k].file == nil; k++ {
			iov[k] = q.segs[k].b
			if k == 0 {
				iov[k] = iov[k][q.off:]
			}
			offered += len(iov[k])
		}
		n, err := rawWritev(c.gc.Fd(), iov[:k])
		if err != nil {
			return false, err
		}
		written += n
		c.loop.sharedSpent += n
		c.written += int64(n) // the send timeout's progress (sendStalled)
		q.advance(c, n)
		clear(iov[:k])
		if n < offered {
			break // the socket is full
		}
	}
	if q.bytes == 0 {
		c.dropSharedLocked()
		return false, nil
	}
	return written >= fastDrain || c.loop.sharedSpent >= c.srv.sharedRound, nil
}

// advance drops n written bytes from the front of the queue, recycling the
// connection's own buffers. Loop only.
func (q *sharedQueue) advance(c *conn, n int) {
	q.bytes -= n
	for n > 0 {
		s := &q.segs[0]
		rest := len(s.b) - q.off
		if n < rest {
			q.off += n
			return
		}
		n -= rest
		if s.owned {
			c.loop.recycle(s.b)
		}
		*s = outSeg{}
		q.segs = q.segs[1:]
		q.off = 0
	}
	if len(q.segs) == 0 {
		q.segs = nil
	}
}

// hasSharedOutput reports whether shared frames wait to be written. Loop goroutine only.
func (c *conn) hasSharedOutput() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hasShared
}
