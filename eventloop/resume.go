package eventloop

import (
	"context"
	"net"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Resuming connections that used up their turn (see h1Session's turn budget), and
// flushes of shared frames past the loop's write bound between two polls
// (sharedRoundBytes, shared.go).
//
// A connection that yields has its input buffered in gnet already, so no read event
// will call it again. gnet's Wake would, but its tasks run in the loop's task queue,
// which gnet drains to the end before it polls again, and a woken connection that
// yields again queues its next wake-up into the same drain: the loop would not poll
// until the whole backlog is done. So each loop owns a socket pair whose reading end
// is registered with the loop like a connection (the resumer): a yielding connection
// joins the loop's list and one byte is written to the pair. The loop then sees the
// resumer readable among the other sockets' events of its next poll and gives every
// listed connection one more turn: one turn per poll, beside everyone else. A deferred
// flush waits in the same list and runs before its connection's turn, if it has one.

// resumer is the loop's registered end of its socket pair, recognised in the gnet
// callbacks by the connection's context.
type resumer struct {
	l     *loop
	wfd   int // the writing end; -1 when closed
	ready bool
	armed bool // a byte is on its way: the loop will run resume
}

// startResumer creates the loop's socket pair and registers its reading end with the
// loop. Until the registration completes, yielding connections are woken with Wake.
// Loop only.
func (l *loop) startResumer() {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		l.srv.log.Warn("no resumer socket pair; yielding connections use Wake", "err", err)
		return
	}
	r := &resumer{l: l, wfd: fds[1]}
	l.resumer = r
	f := os.NewFile(uintptr(fds[0]), "asgo-resumer")
	nc, err := net.FileConn(f) // dups the descriptor
	_ = f.Close()
	if err == nil {
		_, err = l.el.Enroll(gnet.NewContext(context.Background(), r), nc) // gnet dups and closes nc
	}
	if err != nil {
		l.srv.log.Warn("no resumer registration; yielding connections use Wake", "err", err)
		r.close()
	}
}

// close closes the writing end. Loop, or the server's stop after the loops ended.
func (r *resumer) close() {
	if r.wfd >= 0 {
		_ = unix.Close(r.wfd)
		r.wfd = -1
	}
	r.ready = false
}

// resumeByte is what yield writes to the socket pair.
var resumeByte = [1]byte{1}

// yield lists c to continue on the loop's next poll. Loop only.
func (l *loop) yield(c *conn) {
	if !l.armResumer() {
		c.wake()
		return
	}
	l.listForResume(c)
	c.listedYield = true
}

// deferFlushLocked lists c to flush on the loop's next poll (sharedRoundBytes) and
// reports whether it did; without a resumer the flush goes on now. Loop only; c.mu
// must be held.
func (l *loop) deferFlushLocked(c *conn) bool {
	if !l.armResumer() {
		return false
	}
	l.listForResume(c)
	c.listedFlush = true
	c.flushQueued = true // later sends only queue: the listed flush takes them
	return true
}

// listForResume adds c to the connections the next resume visits, once. Loop only.
func (l *loop) listForResume(c *conn) {
	if !c.listedYield && !c.listedFlush {
		l.listed = append(l.listed, c)
	}
}

// armResumer has the loop's next poll run resume, and reports whether it will. Loop
// only.
func (l *loop) armResumer() bool {
	r := l.resumer
	if r == nil || !r.ready {
		return false
	}
	if !r.armed {
		if _, err := unix.Write(r.wfd, resumeByte[:]); err != nil && err != unix.EAGAIN {
			return false
		}
		r.armed = true
	}
	return true
}

// resume runs each listed connection's deferred flush, with the write bound counted
// afresh, and gives it its turn; those that defer or yield again are listed for the
// next poll. Loop only (the resumer's traffic callback).
func (l *loop) resume(gc gnet.Conn) {
	_, _ = gc.Discard(-1)
	l.resumer.armed = false
	l.sharedSpent = 0
	list := l.listed
	l.listed = l.listedSpare[:0]
	for i, c := range list {
		list[i] = nil
		flush, turn := c.listedFlush, c.listedYield
		c.listedFlush, c.listedYield = false, false
		if c.closed || c.lingering {
			continue
		}
		if flush {
			l.guard(c, c.flush)
		}
		if turn {
			l.guard(c, c.onTraffic)
		}
	}
	l.listedSpare = list[:0]
}
