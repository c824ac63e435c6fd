package eventloop

import (
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// loop is asgo's state for one gnet event loop. Owned by that loop's goroutine, except
// el, which is safe for concurrent use.
type loop struct {
	srv   *Server
	el    gnet.EventLoop
	wheel timerWheel
	conns conn // sentinel of the circular list of open connections
	watch []*conn
	// parsers are idle HTTP/1.1 parsers: a connection holds one only while a request
	// head or body is in progress, so idle keep-alive connections cost no parser.
	parsers []*h1.Parser
	// bufs are spare output buffers reused by connections; spareBytes is their total
	// capacity, bounded by maxSpareBytes.
	bufs       [][]byte
	spareBytes int
	// wsReaders are idle WebSocket frame readers: a connection holds one only while a
	// frame or fragmented message is in progress.
	wsReaders []*websocket.Reader
	// wsHeld is the input held by paused WebSockets (wsSession.hold), moved out of
	// gnet; only paused connections have an entry.
	wsHeld map[*conn]*heldInput
	// wsLimited are the WebSocket configs of handlers with a smaller message limit
	// (wsConfigLimited), one per limit.
	wsLimited map[int]*websocket.Config
	// shared holds the output queues of connections with shared frames queued
	// (shared.go); entries are added by app goroutines, so it has its own lock.
	// Lock order: a conn's mu, then sharedMu.
	sharedMu sync.Mutex
	shared   map[*conn]*sharedQueue
	// flushes are the connections whose flush app goroutines asked for since the loop
	// last ran them: one gnet task runs them all (flushBatch), so that responses
	// finishing together cost one task, not one each. flushSpare is the list's other
	// buffer, loop only. Lock order: a conn's mu, then flushMu.
	flushMu    sync.Mutex
	flushes    []*conn
	flushSpare []*conn
	// now is the time the current traffic callback started (zero outside one): timers
	// armed while it runs use it instead of reading the clock per request (the wheel
	// ticks every 10 ms, and a callback is bounded by the turn budget, see h1Session).
	now time.Time
	// headBufs are response-head buffers of finished HTTP/1.1 responses, handed to the
	// next ones (takeHeadBuf, returnHeadBuf), so that responses allocate none.
	headBufs [][]byte
	// freeH1 are HTTP/1.1 streams of finished inline calls, for the next requests
	// when the app keeps nothing of its inline calls (h1Stream.recycle).
	freeH1 []*h1Stream
	// writes counts the output buffers handed to gnet (one write each, or less when
	// the socket is full): what the pipelining tests check batches by.
	writes uint64
	// plainSpare is a TLS plaintext buffer between two connections' decrypts (tls.go),
	// kept apart from bufs: those are mostly too small for a record, and taking one
	// meant allocating a 32 KiB buffer for every message.
	plainSpare []byte
	// iov is the writev vector of a flush with a body by reference (writeRef).
	iov [3][]byte
	// resumer gives connections that used up their turn one more turn per poll, and
	// runs the flushes deferred past sharedSpent's bound; listed holds both (resume.go).
	resumer     *resumer
	listed      []*conn
	listedSpare []*conn
	// sharedSpent is what flushes of shared frames wrote since the last resume (shared.go).
	sharedSpent int
	// wsReceive is the websocket.receive handed to event-mode WebSocket handlers,
	// valid for one call (see wsSession.deliverMessage).
	wsReceive asgi.WebSocketReceive
	// stats are the loop's counters (stats.go); nil without Config.Stats.
	stats *loopStats
}

const (
	tickInterval    = 10 * time.Millisecond
	maxSpareReaders = 64
	maxSpareCap     = 64 << 10
	// maxSpareBytes bounds the spare output buffers of a loop. Responses produced off
	// the loop hold one each until their flush, so a busy loop needs one per
	// connection served at once; small ones fit by the thousand.
	maxSpareBytes = 1 << 20
)

func newLoop(s *Server, el gnet.EventLoop) *loop {
	l := &loop{srv: s, el: el, stats: s.newLoopStats()}
	l.wheel.init(tickInterval, time.Now())
	l.conns.prev, l.conns.next = &l.conns, &l.conns
	return l
}

func (l *loop) add(c *conn) {
	c.prev, c.next = l.conns.prev, &l.conns
	l.conns.prev.next = c
	l.conns.prev = c
}

func (l *loop) remove(c *conn) {
	if c.next == nil {
		return
	}
	c.prev.next = c.next
	c.next.prev = c.prev
	c.prev, c.next = nil, nil
}

// each calls f for every open connection; f may close connections.
func (l *loop) each(f func(*conn)) {
	for c := l.conns.next; c != &l.conns; {
		next := c.next
		f(c)
		c = next
	}
}

// clock returns the start of the current traffic callback, or the time now outside
// one. Loop only.
func (l *loop) clock() time.Time {
	if l.now.IsZero() {
		return time.Now()
	}
	return l.now
}

// guard runs f for c on the loop, recovering a panic so that only c suffers.
func (l *loop) guard(c *conn, f func()) {
	defer func() {
		if r := recover(); r != nil {
			l.srv.log.Error("panic in connection handler; closing the connection",
				"panic", fmt.Sprint(r), "client", c.gc.RemoteAddr(), "stack", string(debug.Stack()))
			c.markGone()
			c.closeNow()
		}
	}()
	f()
}

// tick advances the timer wheel and polls connections whose output is draining.
func (l *loop) tick(now time.Time) {
	l.stats.loopLag(time.Since(now)) // now is when the tick was scheduled
	l.srv.exec.reap(now)
	l.wheel.advance(now, func(c *conn) {
		l.guard(c, func() {
			if c.lingering {
				c.closeNow()
				return
			}
			if c.closing {
				if ob := c.unsentOnLoop(); ob > 0 && ob < c.lastOutbound {
					// Still making progress: give it another stall period.
					c.lastOutbound = ob
					c.setTimer(l.srv.cfg.BodyTimeout)
					return
				}
				c.closeNow()
				return
			}
			c.session.onTimer(c)
			c.flush()
		})
	})
	l.pollWatch()
}

// watchConn makes the loop poll c on every tick while it has ob > 0 bytes unsent in
// gnet (which reports no drain) or shared frames queued: to write those, release
// blocked senders, finish a pending close, and time the send progress
// (Config.SendTimeout). Loop goroutine only.
func (l *loop) watchConn(c *conn, ob int) {
	if !c.watched {
		c.watched = true
		c.sentMark, c.sentAt = c.written-int64(ob), l.wheel.now
		l.watch = append(l.watch, c)
	}
}

// pollWatch polls the watched connections; it allocates nothing once the watch list
// has grown to its working size.
func (l *loop) pollWatch() {
	kept := l.watch[:0]
	for _, c := range l.watch {
		ob, shared := 0, false
		if !c.closed && !c.lingering {
			if c.hasSharedOutput() {
				l.guard(c, c.flush) // writes what the socket takes now of the shared frames
			} else {
				c.afterWrite()
			}
		}
		if !c.closed && !c.lingering {
			ob, shared = c.gc.OutboundBuffered(), c.hasSharedOutput()
		}
		if (ob > 0 || shared) && c.sendStalled(ob) {
			l.srv.log.Warn("client stopped reading; closing after the send timeout",
				"client", c.gc.RemoteAddr(), "unsent", ob, "timeout", l.srv.cfg.SendTimeout)
			c.abort()
			ob, shared = 0, false
		}
		if ob > 0 || shared {
			kept = append(kept, c)
		} else {
			c.watched = false
		}
	}
	clear(l.watch[len(kept):])
	l.watch = kept
}

func (l *loop) getParser() *h1.Parser {
	if n := len(l.parsers); n > 0 {
		p := l.parsers[n-1]
		l.parsers = l.parsers[:n-1]
		return p
	}
	p := new(h1.Parser)
	p.Init(l.srv.cfg.HTTP1)
	return p
}

func (l *loop) putParser(p *h1.Parser) {
	p.Init(l.srv.cfg.HTTP1)
	l.parsers = append(l.parsers, p)
}

// getWSReader returns a frame reader for a connection with cfg and d. Loop only.
func (l *loop) getWSReader(cfg *websocket.Config, d websocket.Deflate) *websocket.Reader {
	if n := len(l.wsReaders); n > 0 {
		r := l.wsReaders[n-1]
		l.wsReaders[n-1] = nil
		l.wsReaders = l.wsReaders[:n-1]
		r.Reset(cfg, d)
		return r
	}
	return websocket.NewReader(cfg, d)
}

// putWSReader keeps an Idle reader for reuse. Loop only.
func (l *loop) putWSReader(r *websocket.Reader) {
	if len(l.wsReaders) < maxSpareReaders {
		l.wsReaders = append(l.wsReaders, r)
	}
}

// takeBuf returns a spare output buffer (possibly nil). Loop only.
func (l *loop) takeBuf() []byte {
	if n := len(l.bufs); n > 0 {
		b := l.bufs[n-1]
		l.bufs[n-1] = nil
		l.bufs = l.bufs[:n-1]
		l.spareBytes -= cap(b)
		return b
	}
	return nil
}

// recycle keeps buf for reuse by another write on this loop.
func (l *loop) recycle(buf []byte) {
	if cap(buf) > maxSpareCap {
		putLargeBuf(buf)
		return
	}
	if cap(buf) <= maxSpareCap && l.spareBytes+cap(buf) <= maxSpareBytes {
		l.bufs = append(l.bufs, buf[:0])
		l.spareBytes += cap(buf)
	}
}

func toAddr(a net.Addr) *asgi.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return &asgi.Addr{Host: a.IP.String(), Port: a.Port}
	case *net.UnixAddr:
		return nil // no host and port (a Unix socket's server address comes from its listener)
	case nil:
		return nil
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return &asgi.Addr{Host: a.String()}
	}
	p := 0
	fmt.Sscan(port, &p)
	return &asgi.Addr{Host: host, Port: p}
}
