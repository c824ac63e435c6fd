package eventloop

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// wsTimer is what a WebSocket connection's timer currently measures.
type wsTimer uint8

const (
	wsTimerNone      wsTimer = iota
	wsTimerHandshake         // the app's answer to websocket.connect is due
	wsTimerPing              // the next keepalive ping is due
	wsTimerPong              // a ping was sent; its pong is due
	wsTimerClose             // a close frame was sent; the peer's close is due
)

// wsSession is the WebSocket session of an upgraded connection. The loop parses frames
// with a websocket.Reader (taken from the loop's pool only while a frame or fragmented
// message is in progress) and feeds complete messages to a bounded inbox; the app runs
// on an executor goroutine (ws_goroutine.go), and its sends are encoded into the
// connection's pending output under c.mu (compression happens before taking the
// lock). In event mode (ws_events.go) the messages go to the app's handler on the loop instead, and
// neither the goroutine nor the inbox exists. The 101 response is written only when
// the app sends websocket.accept.
//
// One timer per connection measures, in turn: the app's handshake budget
// (HandshakeTimeout, then 500), the peer's silence (PingInterval, then a ping), the
// pong (PingTimeout, then 1011; any input counts as the answer) and the closing
// handshake (CloseTimeout, then drop). Reading pauses while the inbox is full or the
// unsent output is above WriteHighWater; while the app leaves the inbox full no pings
// are sent. Input that arrives during a pause is held by the session (hold), within
// the inbound budget (inboundAllowance: about MaxMessageSize, twice it in goroutine
// mode with the inbox), and fed once reading resumes. A WebSocket counts in
// Server.inflight (Config.LimitConcurrency) until its app has returned and its
// connection has closed.
type wsSession struct {
	// Fields are grouped by size so an idle connection costs one 128-byte object.
	c   *conn
	cfg *websocket.Config
	// hs is the client's handshake, needed until the app answers it (then nil).
	hs      *websocket.Handshake
	rawPath string // for the logs
	// Exactly one of handler and wsApp is set, before the first event, and stays.
	// handler serves the connection in event mode (the app implements
	// asgi.WebSocketEventer): its calls run on the loop. wsApp holds what the app's
	// goroutine needs in goroutine mode; event mode does without it.
	handler asgi.WebSocketHandler
	*wsApp
	started int64 // time.Now().UnixNano() at the upgrade, for the access log
	// holds counts what keeps the WebSocket in Server.inflight: its app running and
	// its connection open. The last release takes it out.
	holds atomic.Int32
	// outWait is set while a goroutine waits for the output to drain to resume reading.
	outWait atomic.Bool
	deflate websocket.Deflate  // what the handshake negotiated
	zb      *compressionBudget // nil without permessage-deflate (ws_budget.go)

	// Owned by the loop goroutine:
	reader    *websocket.Reader // nil while idle between messages (loop.getWSReader)
	lastHeard int64             // the loop's timer tick when input last arrived
	timer     wsTimer
	reading   bool // accepted: frames are parsed
	stalled   bool // input waits: not accepted yet, inbox full or output backlogged
	appStall  bool // input waits for the app to make room in the inbox
	yielded   bool // feed stopped after a slice of inflating; a wake-up is queued
	draining  bool
	failed    bool // fail closed the connection: input is discarded
	appFailed bool // event mode: the handler returned an error; only disconnect follows
	heard     bool // input arrived since the last keepalive ping

	// Guarded by c.mu:
	disc      *asgi.WebSocketDisconnect // the connection ended, as the app sees it
	status    int16                     // for the access log: 101, or the refusal
	order     asgi.WebSocketOrder
	closeSent bool // our close frame is queued
	appDone   bool // the app sent websocket.close or ended its denial
	endHTTP   bool // handshake refused or denied: close after flush
	abort     bool // close at once, dropping output
	chunked   bool // denial body uses chunked coding
}

// armHandshake starts the app's budget for answering websocket.connect. Loop only.
func (w *wsSession) armHandshake(c *conn) {
	if w.cfg.HandshakeTimeout > 0 {
		w.timer = wsTimerHandshake
		c.setTimer(w.cfg.HandshakeTimeout)
	}
}

// ---- Loop side ----

// onData parses frames once the app accepted; before that, input waits in gnet. Any
// consumed byte counts as a sign of life for the keepalive.
func (w *wsSession) onData(c *conn, data []byte) (int, error) {
	if w.failed {
		return len(data), nil // closing after a failure: the rest is not read
	}
	if !w.reading {
		return 0, w.stall(len(data))
	}
	var n int
	var err error
	if h := w.held(c); h != nil {
		n, err = w.feedHeld(c, h, data)
	} else {
		w.stalled, w.appStall = false, false
		var paused bool
		n, paused = w.feed(c, data)
		if paused {
			n, err = len(data), w.hold(c, data[n:])
		}
	}
	if w.reader != nil && w.reader.Idle() {
		c.loop.putWSReader(w.reader) // between messages: nothing to keep
		w.reader = nil
	}
	if n > 0 {
		w.heard = true
		w.lastHeard = c.loop.wheel.now
	}
	return n, err
}

// feed hands input to the frame reader and handles its events until the input is
// used up, reading must pause (paused: data[n:] is left), the loop must yield to other
// connections after a slice of inflating (data[n:] is left in gnet and a wake-up is
// queued: w.yield), or the connection fails (then all of data counts as consumed).
// Loop only.
func (w *wsSession) feed(c *conn, data []byte) (n int, paused bool) {
	consumed, inflated := 0, 0
	for consumed < len(data) || w.reader != nil && !w.reader.Idle() {
		if w.mustPause(c) {
			// A message still inflating needs the wake-up even with no input left.
			c.needWake = w.reader != nil && !w.reader.Idle()
			return consumed, true
		}
		if w.reader == nil {
			w.reader = c.loop.getWSReader(w.cfg, w.deflate)
		}
		n, ev, err := w.reader.Feed(data[consumed:])
		consumed += n
		k := w.reader.TakeInflated()
		inflated += k
		if err == nil && !w.chargeInflate(k) {
			c.srv.log.Warn("WebSocket client over its inflate budget", "client", c.gc.RemoteAddr(), "max_inflate_rate", w.cfg.MaxInflateRate)
			err = errInflateBudget
		}
		if err != nil {
			w.fail(c, err)
			return len(data), false
		}
		if ev.Kind == websocket.EventNone {
			break
		}
		if ev.Kind == websocket.EventYield || inflated >= w.cfg.CompressionSlice {
			if ev.Kind != websocket.EventYield {
				w.handle(c, ev)
			}
			if w.reader.Closed() || w.failed {
				return len(data), false
			}
			w.yield(c, data[consumed:])
			return consumed, false
		}
		w.handle(c, ev)
		if w.reader.Closed() {
			return len(data), false
		}
	}
	return consumed, false
}

// heldInput is the unread input of a paused WebSocket, moved out of gnet. Left in
// gnet it would cost several times its size: gnet's input ring grows by copying into
// ever larger buffers (each old one kept in a pool until the next collections), and
// every read would copy all of it into one slice again (Peek). Here it costs its size
// (in chunks of at least heldChunk bytes) and is counted against the inbound budget.
type heldInput struct {
	chunks [][]byte
	bytes  int
}

const heldChunk = 16 << 10

// held returns the connection's held input, nil if none. A connection holds input
// only while stalled, so the common case costs no lookup. Loop only.
func (w *wsSession) held(c *conn) *heldInput {
	if !w.stalled || c.loop.wsHeld == nil {
		return nil
	}
	return c.loop.wsHeld[c]
}

// hold moves data (gnet's, valid for this callback) behind the held input, closing
// the connection when that passes the inbound budget (stall). The connection is
// woken with needWake so that the held input is fed once reading may resume. Loop
// only.
func (w *wsSession) hold(c *conn, data []byte) error {
	h := c.loop.wsHeld[c]
	if h == nil {
		h = new(heldInput)
		if c.loop.wsHeld == nil {
			c.loop.wsHeld = make(map[*conn]*heldInput)
		}
		c.loop.wsHeld[c] = h
	}
	h.add(data)
	w.stalled = true
	c.needWake = true
	err := w.stall(h.bytes)
	if w.failed || c.closed {
		w.dropHeld(c)
	}
	return err
}

func (h *heldInput) add(data []byte) {
	if len(data) == 0 {
		return
	}
	h.bytes += len(data)
	if n := len(h.chunks); n > 0 {
		last := h.chunks[n-1]
		if len(last)+len(data) <= cap(last) {
			h.chunks[n-1] = append(last, data...)
			return
		}
	}
	h.chunks = append(h.chunks, append(make([]byte, 0, max(len(data), heldChunk)), data...))
}

// feedHeld feeds the held input, then data, as far as reading may go; the rest stays
// held. All of data counts as consumed. Loop only.
func (w *wsSession) feedHeld(c *conn, h *heldInput, data []byte) (int, error) {
	h.add(data)
	for len(h.chunks) > 0 && !w.failed {
		chunk := h.chunks[0]
		w.yielded = false
		n, paused := w.feed(c, chunk)
		h.bytes -= n
		if paused {
			h.chunks[0] = chunk[n:]
			return len(data), w.hold(c, nil)
		}
		if w.yielded {
			// A slice of inflating is done: the rest waits for the queued wake-up.
			w.yielded = false
			h.chunks[0] = chunk[n:]
			return len(data), nil
		}
		h.chunks[0] = nil
		h.chunks = h.chunks[1:]
		rest := chunk[n:]
		if len(rest) == 0 || w.failed || c.closed {
			continue
		}
		// An incomplete frame header: join it with what follows, or wait for more
		// input (the connection stays stalled while it holds input).
		if len(h.chunks) == 0 {
			h.chunks = append(h.chunks, rest)
			return len(data), nil
		}
		h.chunks[0] = append(append(make([]byte, 0, len(rest)+len(h.chunks[0])), rest...), h.chunks[0]...)
	}
	w.dropHeld(c)
	w.stalled, w.appStall = false, false
	return len(data), nil
}

// dropHeld releases the held input. Loop only.
func (w *wsSession) dropHeld(c *conn) {
	if c.loop.wsHeld != nil {
		delete(c.loop.wsHeld, c)
	}
}

// errInboundOverflow closes a connection whose unread input grows while the server
// waits for the app (inbound flood against a slow consumer).
var errInboundOverflow = &websocket.CloseError{Code: websocket.ClosePolicyViolation, Reason: "inbound queue overflow"}

// errPingTimeout closes a connection whose peer did not answer a keepalive ping.
var errPingTimeout = &websocket.CloseError{Code: websocket.CloseInternalError, Reason: "keepalive ping timeout"}

// minUnreadAllowance is the unread input a paused connection may always hold, even
// when a message in progress uses up its budget: the rest of that message's frame
// and a close frame fit.
const minUnreadAllowance = 16 << 10

// stall marks reading paused until the app accepts, makes room in the inbox or the
// output drains, with unread bytes waiting (left in gnet before the 101, held by the
// session after it: hold). gnet keeps reading the socket meanwhile, so the unread
// input is capped (inboundAllowance): past it the connection is closed with 1008, or
// dropped when the peer does not read its output either. Either is logged once.
func (w *wsSession) stall(unread int) error {
	w.stalled = true
	if unread <= w.inboundAllowance() {
		return nil
	}
	if !w.reading {
		return errInboundOverflow // frames before the 101: no close frame may be sent yet
	}
	c := w.c
	if w.unsent(c) > c.srv.cfg.WriteHighWater {
		// The peer neither reads nor stops sending: a close frame would wait behind
		// the backlog while gnet keeps buffering its input.
		c.srv.log.Info("WebSocket connection aborted", "client", c.gc.RemoteAddr(), "reason", "inbound queue overflow while the peer does not read", "unread", unread)
		c.mu.Lock()
		w.disconnectLocked(websocket.CloseAbnormal, "")
		c.mu.Unlock()
		c.markGone()
		c.closeNow()
		return nil
	}
	w.fail(c, errInboundOverflow)
	return nil
}

// inboundAllowance is how much unread input a paused connection may hold. A
// connection's inbound budget is about twice MaxMessageSize: the message the frame
// reader is reassembling and the unread input together at most MaxMessageSize, and
// in goroutine mode the inbox at most MaxMessageSize more (reading pauses when it is
// reached). Loop only.
func (w *wsSession) inboundAllowance() int {
	limit := w.cfg.MaxMessageSize
	allow := limit
	if w.reader != nil {
		allow -= w.reader.Buffered()
	}
	if w.wsApp != nil {
		w.c.mu.Lock()
		allow += limit - min(w.inboxBytes, limit)
		w.c.mu.Unlock()
	}
	return max(allow, minUnreadAllowance)
}

// unsent is the connection's output not yet written to the socket. Loop only.
func (w *wsSession) unsent(c *conn) int {
	ob := c.gc.OutboundBuffered()
	c.mu.Lock()
	defer c.mu.Unlock()
	return ob + len(c.pending) + c.sharedBytesLocked()
}

// mustPause reports whether reading must wait: the inbox is full (the app is slow to
// receive), or the connection's unsent output is above WriteHighWater. The latter
// stops a peer that pings without reading from growing the server's memory with pongs;
// reading resumes once the output drained below WriteLowWater. Loop only.
func (w *wsSession) mustPause(c *conn) bool {
	unsent := c.gc.OutboundBuffered()
	c.mu.Lock()
	defer c.mu.Unlock()
	// After our close frame new messages are dropped (push), so they take no room.
	if w.wsApp != nil && !w.closeSent && (len(w.inbox) >= w.cfg.MaxQueuedMessages || w.inboxBytes >= w.cfg.MaxMessageSize) {
		w.wantWake = true // popLocked wakes the reader
		w.appStall = true
		return true
	}
	if unsent+len(c.pending)+c.sharedBytesLocked() <= c.srv.cfg.WriteHighWater {
		return false
	}
	if c.drainWait == nil {
		c.drainWait = make(chan struct{}) // closed by the loop below WriteLowWater
	}
	if w.outWait.CompareAndSwap(false, true) {
		go w.resumeWhenDrained(c.drainWait)
	}
	return true
}

// resumeWhenDrained wakes the reader once drained is closed (output below the
// low-water mark, or the connection gone).
func (w *wsSession) resumeWhenDrained(drained <-chan struct{}) {
	<-drained
	w.outWait.Store(false)
	w.c.wake()
}

// handle processes one event of the frame reader. Loop only.
func (w *wsSession) handle(c *conn, ev websocket.Event) {
	switch ev.Kind {
	case websocket.EventMessage:
		c.loop.stats.wsIn(len(ev.Data))
		if w.handler != nil {
			w.deliverMessage(c, ev.Data, ev.Text)
			return
		}
		w.push(&asgi.WebSocketReceive{Data: cloneBytes(ev.Data), Text: ev.Text})
	case websocket.EventPing:
		c.mu.Lock()
		if !w.closeSent {
			c.pending = websocket.AppendPong(c.pending, ev.Data)
		}
		c.mu.Unlock()
	case websocket.EventPong:
		if w.timer == wsTimerPong {
			w.armPing()
		}
	case websocket.EventClose:
		w.peerClosed(c, ev.Code, string(ev.Reason))
	}
}

// peerClosed answers the peer's close frame (echoing its code) and closes the
// connection once the answer is written: the server closes TCP first (RFC 6455 7.1.1).
func (w *wsSession) peerClosed(c *conn, code int, reason string) {
	c.mu.Lock()
	if !w.closeSent {
		w.closeSent = true
		c.pending = websocket.AppendClose(c.pending, code, "")
	}
	w.disconnectLocked(code, reason)
	c.mu.Unlock()
	c.closeAfterFlush()
}

// fail closes the connection after a protocol error with the error's close code.
func (w *wsSession) fail(c *conn, err error) {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		ce = &websocket.CloseError{Code: websocket.CloseInternalError, Reason: err.Error()}
	}
	c.srv.log.Info("WebSocket connection failed", "client", c.gc.RemoteAddr(), "code", ce.Code, "reason", ce.Reason)
	w.failed = true
	c.mu.Lock()
	if !w.closeSent {
		w.closeSent = true
		c.pending = websocket.AppendClose(c.pending, ce.Code, ce.Reason)
	}
	w.disconnectLocked(ce.Code, ce.Reason)
	c.mu.Unlock()
	c.closeAfterFlush()
}

// armPing schedules the next keepalive ping (or nothing when pings are off).
func (w *wsSession) armPing() {
	if w.cfg.PingInterval <= 0 {
		w.timer = wsTimerNone
		w.c.setTimer(0)
		return
	}
	w.timer = wsTimerPing
	w.c.setTimer(w.cfg.PingInterval)
}

func (w *wsSession) onTimer(c *conn) {
	switch w.timer {
	case wsTimerHandshake:
		w.handshakeTimedOut(c)
	case wsTimerPing:
		w.pingDue(c)
	case wsTimerPong:
		w.pongDue(c)
	case wsTimerClose:
		c.mu.Lock()
		w.disconnectLocked(websocket.CloseAbnormal, "")
		c.mu.Unlock()
		c.markGone()
		c.closeNow()
	}
}

// errHandshakeTimeout answers an upgrade whose app did not answer websocket.connect
// within HandshakeTimeout.
var errHandshakeTimeout = &websocket.HandshakeError{Status: 500, Reason: "Internal Server Error"}

// handshakeTimedOut ends a handshake the app left unanswered: the client gets a 500
// (or, when a denial response had started, the connection is aborted), the app's
// receive returns websocket.disconnect (1006) and its later sends fail with
// asgi.ErrDisconnected. An answer queued but not yet flushed wins. Loop only.
func (w *wsSession) handshakeTimedOut(c *conn) {
	c.mu.Lock()
	state := w.order.State
	switch state {
	case asgi.WebSocketHandshake:
		w.status, w.endHTTP = 500, true
		c.pending = websocket.AppendHandshakeError(c.pending, errHandshakeTimeout)
	case asgi.WebSocketDenying:
		w.abort = true
	default:
		c.mu.Unlock()
		return
	}
	w.order.State = asgi.WebSocketClosed
	w.disconnectLocked(websocket.CloseAbnormal, "")
	c.mu.Unlock()
	c.srv.log.Warn("WebSocket handshake timed out: the app did not answer websocket.connect",
		"path", w.rawPath, "timeout", w.cfg.HandshakeTimeout, "state", state.String())
	if state == asgi.WebSocketDenying {
		c.markGone()
		c.closeNow()
		return
	}
	c.closeAfterFlush()
}

// pingDue runs when the peer may have been silent for PingInterval. It pings only if
// the peer really was (inbound bytes postpone the ping to PingInterval after them, as
// any input proves the peer alive) and never while the server does not read because
// the app leaves the inbox full: the pong could not be seen then. (A pause on unsent
// output is the peer's doing: a ping then tests whether it drains in time.) Loop only.
func (w *wsSession) pingDue(c *conn) {
	if w.appStall {
		w.armPing()
		return
	}
	silent := time.Duration(c.loop.wheel.now-w.lastHeard) * c.loop.wheel.tick
	if silent < w.cfg.PingInterval {
		c.setTimer(w.cfg.PingInterval - silent)
		return
	}
	w.sendPing(c)
}

// pongDue runs PingTimeout after a ping whose pong has not come. Any other input since
// the ping proves the peer alive as well (a peer in the middle of a long frame cannot
// answer before its end), and a server whose app left the inbox full could not have
// seen the pong: both go back to waiting for silence. Otherwise the connection fails
// with 1011, as uvicorn and websockets do. Loop only.
func (w *wsSession) pongDue(c *conn) {
	if w.heard || w.appStall {
		w.timer = wsTimerPing
		w.pingDue(c)
		return
	}
	c.mu.Lock()
	w.disconnectLocked(websocket.CloseAbnormal, "") // the peer never answered
	c.mu.Unlock()
	w.fail(c, errPingTimeout)
}

func (w *wsSession) sendPing(c *conn) {
	c.mu.Lock()
	closing := w.closeSent
	if !closing {
		c.pending = websocket.AppendPing(c.pending, nil)
	}
	c.mu.Unlock()
	if closing {
		return
	}
	if w.cfg.PingTimeout <= 0 {
		w.armPing()
		return
	}
	w.heard = false
	w.timer = wsTimerPong
	c.setTimer(w.cfg.PingTimeout)
}

// onFlushed applies, on the loop, what the app's sends decided: start reading after
// the 101, close after a refusal, and time the closing handshake.
func (w *wsSession) onFlushed(c *conn) {
	c.mu.Lock()
	accepted := w.order.State != asgi.WebSocketHandshake && w.status == 101
	closeSent, endHTTP, abort := w.closeSent, w.endHTTP, w.abort
	c.mu.Unlock()
	switch {
	case abort:
		c.markGone()
		c.closeNow()
		return
	case endHTTP:
		c.closeAfterFlush()
		return
	}
	if accepted && !w.reading {
		w.startReading(c)
		c.mu.Lock()
		closeSent = w.closeSent // startReading may have closed; the app may close any time
		c.mu.Unlock()
	}
	if closeSent && w.timer != wsTimerClose && !c.closing {
		w.timer = wsTimerClose
		c.setTimer(w.cfg.CloseTimeout)
		if w.stalled {
			c.wake() // the inbox no longer limits reading: find the peer's close
		}
	}
}

// startReading runs once the 101 is out: frames are parsed from now on.
func (w *wsSession) startReading(c *conn) {
	w.reading = true
	w.lastHeard = c.loop.wheel.now
	w.armPing()
	if w.draining {
		w.closeGoingAway(c)
	}
	if w.stalled {
		w.stalled = false
		c.wake()
	}
}

// closeGoingAway starts the closing handshake with 1001 (server shutdown).
func (w *wsSession) closeGoingAway(c *conn) {
	c.mu.Lock()
	if !w.closeSent && w.disc == nil {
		w.closeSent = true
		c.pending = websocket.AppendClose(c.pending, websocket.CloseGoingAway, "server shutting down")
	}
	c.mu.Unlock()
}

// onDrain closes an open WebSocket with 1001 and lets the closing handshake finish
// within the drain deadline; a connection still in its handshake is closed the same
// way right after the app accepts.
func (w *wsSession) onDrain(c *conn) {
	w.draining = true
	if w.reading {
		w.closeGoingAway(c)
	}
}

func (w *wsSession) onClose(c *conn) {
	w.dropHeld(c)
	c.mu.Lock()
	w.disconnectLocked(websocket.CloseAbnormal, "")
	c.mu.Unlock()
	if w.handler != nil {
		w.endEvents(c)
	} else {
		w.stop()
	}
	w.release()
}

// release drops one of the two holds (app running, connection open); the last one
// takes the WebSocket out of Server.inflight, which Config.LimitConcurrency bounds.
// Safe for concurrent use.
func (w *wsSession) release() {
	if w.holds.Add(-1) == 0 {
		w.c.srv.inflight.Add(-1)
	}
}

// disconnectLocked records how the connection ended for the app and wakes its
// receive; later sends fail. The first call wins. c.mu must be held.
func (w *wsSession) disconnectLocked(code int, reason string) {
	if w.disc != nil {
		return
	}
	w.disc = &asgi.WebSocketDisconnect{Code: code, Reason: reason}
	w.wakeReceiverLocked()
}

// ---- App side ----

// writer encodes the connection's messages (a small value: not kept per connection).
func (w *wsSession) writer() websocket.Writer { return websocket.NewWriter(w.cfg, w.deflate) }

func (w *wsSession) sendLocked(msg asgi.Message, frame []byte) error {
	c := w.c
	if w.appDone {
		return w.order.Check(msg) // a contract error, whatever the peer did since
	}
	if c.gone || w.disc != nil || w.closeSent {
		return asgi.ErrDisconnected
	}
	if a, ok := msg.(*asgi.WebSocketAccept); ok && a.Subprotocol != "" && w.order.State == asgi.WebSocketHandshake {
		if !offered(w.hs.Subprotocols, a.Subprotocol) {
			return &asgi.ContractError{Msg: fmt.Sprintf("Subprotocol %q was not offered by the client.", a.Subprotocol)}
		}
	}
	if m, ok := msg.(*asgi.WebSocketClose); ok && w.order.State == asgi.WebSocketConnected {
		if err := checkCloseReason(m.Reason); err != nil {
			return err
		}
	}
	before := w.order.State
	if err := w.order.Check(msg); err != nil {
		return err
	}
	w.appDone = w.order.State == asgi.WebSocketClosed
	switch m := msg.(type) {
	case *asgi.WebSocketAccept:
		c.pending, _ = websocket.AppendAccept(c.pending, w.hs, m.Subprotocol, m.Headers)
		w.status = 101
	case *asgi.WebSocketSend:
		c.loop.stats.wsOut(len(m.Data))
		if frame != nil {
			c.pending = append(c.pending, frame...)
		} else { // not to be compressed (precompress)
			c.pending, _ = websocket.Writer{}.AppendMessage(c.pending, m.Text, m.Data)
		}
	case *asgi.WebSocketClose:
		w.appClose(before, m)
	case *asgi.WebSocketHTTPResponseStart:
		c.pending, w.chunked = websocket.AppendDenialHead(c.pending, m.Status, m.Headers)
		w.status = int16(m.Status)
	case *asgi.WebSocketHTTPResponseBody:
		c.pending = websocket.AppendDenialBody(c.pending, m.Body, m.MoreBody, w.chunked)
		w.endHTTP = !m.MoreBody
	}
	if before == asgi.WebSocketHandshake {
		w.hs = nil // answered: the client's offer is no longer needed
	}
	return nil
}

// appClose handles websocket.close: a 403 before the handshake was accepted, else a
// close frame that starts the closing handshake. c.mu must be held.
func (w *wsSession) appClose(before asgi.WebSocketSendState, m *asgi.WebSocketClose) {
	c := w.c
	if before == asgi.WebSocketHandshake {
		c.pending = websocket.AppendHandshakeError(c.pending, websocket.ErrDenied)
		w.status, w.endHTTP = 403, true
		return
	}
	w.closeSent = true
	c.pending = websocket.AppendClose(c.pending, m.Code, m.Reason)
}

// checkCloseReason refuses a close reason that a close frame cannot carry: longer than
// 123 bytes, or not UTF-8 (the peer would fail the connection with 1007). The reason
// is not cut silently, as python-websockets (uvicorn's default) also refuses it.
func checkCloseReason(reason string) error {
	switch {
	case len(reason) > websocket.MaxCloseReason:
		return &asgi.ContractError{Msg: fmt.Sprintf("WebSocket close reason is %d bytes long; a close frame holds at most %d.", len(reason), websocket.MaxCloseReason)}
	case !utf8.ValidString(reason):
		return &asgi.ContractError{Msg: "Invalid UTF-8 in 'websocket.close' reason."}
	}
	return nil
}

func offered(list []string, s string) bool {
	for _, p := range list {
		if p == s {
			return true
		}
	}
	return false
}
