package eventloop

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h2"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// WebSocket over HTTP/2 (RFC 8441). An extended CONNECT with ":protocol: websocket"
// opens a stream that carries RFC 6455 frames in its DATA frames, beside the
// connection's other streams. The app sees the same websocket scope as over
// HTTP/1.1 (http_version "2") and the same contract: websocket.accept answers 200
// (with the subprotocol and the permessage-deflate agreement), websocket.close before
// it answers 403, the denial-response extension sends the app's own response.
//
// The frames are the ones HTTP/1.1 uses (protocol/websocket's Reader and Writer);
// what differs is the transport under them:
//
//   - Input. DATA bytes are copied into the stream's input (w.in) inside Feed and
//     parsed after it (pump, on the loop), so the app's messages are delivered with
//     c.mu released. Bytes are granted back to the peer's window only as the frame
//     reader consumes them, and the reader stops while the app's inbox is full or
//     the stream's unsent output is above WriteHighWater: HTTP/2 flow control is the
//     inbound budget (at most one stream window unread, plus the message being
//     reassembled), and nothing needs to be held outside gnet.
//   - Output. Frames go to the stream's output (w.out) and are written as DATA as far
//     as the peer's windows allow; the rest is written after each Feed that may have
//     opened a window (drainWebSocketsLocked). The app's send blocks while w.out is
//     above WriteHighWater, and on the connection's unsent output like every send.
//   - End. The closing handshake ends with END_STREAM (RFC 8441 5.2: the stream's
//     end stands for TCP's FIN): after our close frame once the peer's close came, or
//     with the echo of the peer's close. A peer END_STREAM without a close frame, or
//     an RST_STREAM, is websocket.disconnect 1006 for the app.
//   - Timers. The app's handshake budget, the keepalive ping and its pong
//     (PingInterval, PingTimeout) and the peer's close after ours are one
//     time.AfterFunc per stream, since the connection's one timer belongs to the
//     HTTP/2 session; each callback takes c.mu and checks the state it was armed for.
//
// The app runs in goroutine mode (ServeASGI: receive on a bounded inbox) or, when it
// implements asgi.WebSocketEventer, in event mode (its handler called on the loop
// after Feed, SendNow queueing without blocking): h2_websocket_app.go. Prepared
// broadcasts are copies here: the stream's windows must see every byte.
type h2WebSocket struct {
	h       *h2Session
	c       *conn
	id      uint32
	cfg     *websocket.Config
	scope   *asgi.WebSocketScope
	rawPath string
	ctx     context.Context
	stop    context.CancelFunc
	started time.Time
	deflate websocket.Deflate
	zb      *compressionBudget // nil without permessage-deflate
	refusal *websocket.HandshakeError
	// handler serves the WebSocket in event mode (the app implements
	// asgi.WebSocketEventer): called on the loop, after Feed, with c.mu released.
	handler asgi.WebSocketHandler

	// Owned by the loop goroutine:
	in     []byte // DATA received, not yet parsed (at most one stream window)
	reader *websocket.Reader
	failed bool // a protocol error closed the WebSocket: input is discarded
	// Event mode only:
	appFailed bool // the handler returned an error: only websocket.disconnect follows
	delivered bool // websocket.disconnect was delivered: the handler is done

	// Guarded by c.mu:
	hs         *websocket.Handshake // the client's offer, until the app answers it
	inEnd      bool                 // the peer ended its side (END_STREAM)
	order      asgi.WebSocketOrder
	status     int
	inbox      []asgi.Message
	inboxBytes int
	recvWait   chan struct{}
	outWait    chan struct{} // closed when out drains below WriteLowWater or the stream goes
	out        []byte        // frames (or a denial body) the peer's windows have not taken
	endQueued  bool          // END_STREAM follows out
	endSent    bool
	inBacklog  bool      // listed in h2Session.wsBacklogged and counted in blocked
	wantPump   bool      // listed in h2Session.wsPump
	reading    bool      // accepted: frames are parsed
	inWaiting  bool      // parsing paused with input left (full inbox): receive resumes it
	heardAt    time.Time // when DATA last arrived (keepalive)
	pingAt     time.Time // when our unanswered keepalive ping went out; zero if none
	closeSent  bool
	disc       *asgi.WebSocketDisconnect
	gone       bool // reset, connection closed
	appDone    bool // the app sent websocket.close or ended its denial
	appExited  bool // the app returned
	released   bool
	timer      *time.Timer
}

// newH2WebSocket is the WebSocket of an extended CONNECT; a request that cannot be one
// carries its refusal, answered after Feed. Inside Feed, c.mu held.
func newH2WebSocket(h *h2Session, id uint32, req *h2.Request) *h2WebSocket {
	c := h.c
	w := &h2WebSocket{h: h, c: c, id: id, cfg: &c.srv.cfg.WebSocket, started: time.Now()}
	switch {
	case req.Protocol != "websocket":
		w.refusal = &websocket.HandshakeError{Status: 501, Reason: "unsupported :protocol " + strconv.Quote(req.Protocol)}
	case req.EndStream:
		w.refusal = &websocket.HandshakeError{Status: 400, Reason: "WebSocket CONNECT must not end the stream"}
	}
	if w.refusal != nil {
		w.rawPath = req.Path
		return w
	}
	hs, herr := websocket.ParseExtendedConnect(req.Headers, w.cfg)
	if herr != nil {
		w.refusal, w.rawPath = herr, req.Path
		return w
	}
	w.hs, w.deflate, w.zb = &hs, hs.Deflate, newCompressionBudget(hs.Deflate)
	w.scope = h2WSScope(c, req, hs.Subprotocols)
	w.rawPath = string(w.scope.RawPath)
	w.inbox = []asgi.Message{&asgi.WebSocketConnect{}}
	return w
}

// h2WSScope is the websocket scope of an extended CONNECT. Loop goroutine only.
func h2WSScope(c *conn, req *h2.Request, subprotocols []string) *asgi.WebSocketScope {
	rawPath, query := req.Target()
	client, server := c.addrs()
	return &asgi.WebSocketScope{
		ASGI:         asgi.DefaultInfo,
		HTTPVersion:  "2",
		Scheme:       c.wsScheme(), // wss over TLS, whatever :scheme says
		Path:         c.srv.cfg.RootPath + asgi.DecodePath(rawPath),
		RawPath:      []byte(rawPath),
		QueryString:  []byte(query),
		RootPath:     c.srv.cfg.RootPath,
		Headers:      req.Headers,
		Client:       client,
		Server:       server,
		Subprotocols: subprotocols,
		State:        c.srv.state(),
		Extensions:   c.wsExt(),
	}
}

// start runs the app, or answers a refused handshake (loop goroutine, c.mu not held).
func (w *h2WebSocket) start() {
	c := w.c
	cfg := &c.srv.cfg
	if w.refusal == nil && cfg.LimitConcurrency > 0 && c.srv.inflight.Load() >= int64(cfg.LimitConcurrency) {
		w.refusal = errWSConcurrency
	}
	if w.refusal != nil {
		level := slog.LevelInfo
		if w.refusal.Status >= 500 {
			level = slog.LevelWarn
		}
		c.srv.log.Log(context.Background(), level, "WebSocket handshake refused",
			"client", c.gc.RemoteAddr(), "stream", w.id, "status", w.refusal.Status, "reason", w.refusal.Reason)
		c.mu.Lock()
		w.status = w.refusal.Status
		w.writeErrorLocked(w.refusal.Status, w.refusal.Reason, w.refusal.Headers)
		w.appExited = true
		w.maybeReleaseLocked()
		c.mu.Unlock()
		if cfg.AccessLog {
			client, _ := c.addrs()
			c.srv.logWebSocketAccess(client, w.rawPath, w.refusal.Status, w.started)
		}
		return
	}
	if w.gone { // opened and reset in one read
		c.mu.Lock()
		w.appExited = true
		w.maybeReleaseLocked()
		c.mu.Unlock()
		return
	}
	w.ctx, w.stop = context.WithCancel(context.Background())
	if w.cfg.HandshakeTimeout > 0 {
		c.mu.Lock()
		w.armLocked(w.cfg.HandshakeTimeout, w.handshakeTimedOut)
		c.mu.Unlock()
	}
	c.srv.inflight.Add(1)
	if hd := asgi.WebSocketHandlerFor(c.srv.app, w.scope); hd != nil {
		w.startEvents(hd)
		return
	}
	c.srv.exec.Go(w)
}

// run runs the app on an executor goroutine.
func (w *h2WebSocket) run() {
	defer w.c.srv.inflight.Add(-1)
	defer w.stop()
	w.finish(w.c.srv.callApp(w.ctx, w.scope, w.receive, w.send))
	if w.c.srv.cfg.AccessLog {
		w.c.mu.Lock()
		status := w.status
		w.c.mu.Unlock()
		if status == 200 {
			status = 101 // the access log's "accepted"
		}
		w.c.srv.logWebSocketAccess(w.scope.Client, w.rawPath, status, w.started)
	}
}

// finish is the failure policy of WebSocket, over a stream: before the handshake was
// answered 500, on an open WebSocket close 1011 after an error and 1000 after a
// return, a denial cut short RST_STREAM INTERNAL_ERROR.
func (w *h2WebSocket) finish(err error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && !errors.Is(err, asgi.ErrDisconnected) && !errors.Is(err, context.Canceled) {
		c.srv.log.Error("exception in ASGI application", "scope", "websocket", "path", w.rawPath, "err", err)
	}
	w.appExited = true
	if !w.gone && !c.gone {
		switch w.order.State {
		case asgi.WebSocketHandshake:
			if err == nil {
				c.srv.log.Error("ASGI callable returned without sending handshake.", "path", w.rawPath)
			}
			w.status = 500
			w.writeErrorLocked(500, "Internal Server Error", nil)
		case asgi.WebSocketConnected:
			code := websocket.CloseNormal
			if err != nil {
				code = websocket.CloseInternalError
			}
			w.sendCloseLocked(code, "")
		case asgi.WebSocketDenying:
			c.pending = w.h.proto.Reset(c.pending, w.id, h2.ErrCodeInternal)
			w.goneLocked(websocket.CloseAbnormal)
		}
	}
	w.order.State = asgi.WebSocketClosed
	w.maybeReleaseLocked()
	c.scheduleFlushLocked()
}

// writeErrorLocked answers the CONNECT with status and a text body, ending the stream.
func (w *h2WebSocket) writeErrorLocked(status int, text string, extra asgi.Headers) {
	c, p := w.c, w.h.proto
	body := text + "\n"
	headers := append(asgi.H("content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(body))), extra...)
	var err error
	if c.pending, err = p.WriteHeaders(c.pending, w.id, status, headers, false); err == nil {
		w.queueLocked([]byte(body), true)
	}
}

// ---- Output ----

// queueLocked appends b (frames, or a denial body) to the stream's output, with
// END_STREAM after it when end is set, and writes what the windows take.
func (w *h2WebSocket) queueLocked(b []byte, end bool) {
	if w.endQueued || w.gone {
		return
	}
	w.out = append(w.out, b...)
	w.endQueued = end
	w.pushLocked()
}

// pushLocked writes the stream's output as far as the peer's windows allow and lists
// the stream for the post-Feed drain while some is left. It reports whether the
// output is all written.
func (w *h2WebSocket) pushLocked() bool {
	c, h := w.c, w.h
	if w.gone || w.endSent || len(w.out) == 0 && !w.endQueued {
		w.out = nil
		w.leaveBacklogLocked()
		return true
	}
	var n int
	var err error
	c.pending, n, err = h.proto.WriteData(c.pending, w.id, w.out, w.endQueued)
	c.scheduleFlushLocked()
	if err != nil {
		w.goneLocked(websocket.CloseAbnormal)
		return true
	}
	if n == len(w.out) {
		w.out = w.out[:0]
		if cap(w.out) > 4<<10 {
			w.out = nil // an idle WebSocket keeps no large buffer
		}
		w.endSent = w.endQueued
		w.leaveBacklogLocked()
		w.wakeSenderLocked()
		return true
	}
	w.out = w.out[n:]
	if len(w.out) <= c.srv.cfg.WriteLowWater {
		w.wakeSenderLocked()
	}
	if !w.inBacklog {
		w.inBacklog = true
		h.wsBacklogged = append(h.wsBacklogged, w)
		if h.blocked == 0 {
			h.stallFrom = time.Now()
		}
		h.blocked++ // counts for the stalled-window timeout
	}
	return false
}

func (w *h2WebSocket) leaveBacklogLocked() {
	if w.inBacklog {
		w.inBacklog = false
		w.h.blocked--
	}
}

func (w *h2WebSocket) wakeSenderLocked() {
	if w.outWait != nil {
		close(w.outWait)
		w.outWait = nil
	}
}

func (w *h2WebSocket) wakeReceiverLocked() {
	if w.recvWait != nil {
		close(w.recvWait)
		w.recvWait = nil
	}
}

// sendCloseLocked queues our close frame (once); END_STREAM follows when the peer's
// close arrives, or the stream is reset after CloseTimeout.
func (w *h2WebSocket) sendCloseLocked(code int, reason string) {
	if w.closeSent || w.gone {
		return
	}
	w.closeSent = true
	w.queueLocked(websocket.AppendClose(nil, code, reason), w.disc != nil)
	w.armLocked(w.cfg.CloseTimeout, w.closeTimedOut)
}

// ---- Timers (time.AfterFunc goroutines) ----

func (w *h2WebSocket) armLocked(d time.Duration, f func()) {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.timer = time.AfterFunc(d, f)
}

// closeTimedOut resets a stream whose peer did not answer our close frame.
func (w *h2WebSocket) closeTimedOut() {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.released || w.gone || w.endSent && w.inEnd {
		return
	}
	c.pending = w.h.proto.Reset(c.pending, w.id, h2.ErrCodeCancel)
	w.goneLocked(websocket.CloseAbnormal)
	w.maybeReleaseLocked()
	c.scheduleFlushLocked()
}

// handshakeTimedOut answers 500 when the app left websocket.connect unanswered for
// HandshakeTimeout (a denial in progress is reset); the app then sees websocket.disconnect.
func (w *h2WebSocket) handshakeTimedOut() {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	state := w.order.State
	if w.gone || state != asgi.WebSocketHandshake && state != asgi.WebSocketDenying {
		return
	}
	c.srv.log.Warn("WebSocket handshake timed out: the app did not answer websocket.connect",
		"path", w.rawPath, "timeout", w.cfg.HandshakeTimeout, "state", state.String())
	if state == asgi.WebSocketHandshake {
		w.status = 500
		w.writeErrorLocked(500, "Internal Server Error", nil)
	} else {
		c.pending = w.h.proto.Reset(c.pending, w.id, h2.ErrCodeInternal)
	}
	w.order.State = asgi.WebSocketClosed
	w.goneLocked(websocket.CloseAbnormal)
	c.scheduleFlushLocked()
}

// errH2PingTimeout closes a WebSocket whose peer answered no keepalive ping.
var errH2PingTimeout = websocket.CloseError{Code: websocket.CloseInternalError, Reason: "keepalive ping timeout"}

// keepalive runs every PingInterval of the peer's silence: it pings a silent peer and
// closes with 1011 one that stays silent PingTimeout after the ping (any DATA counts
// as the answer, as over HTTP/1.1). A peer held back by a full inbox is not pinged:
// its window may be closed, and the pong could not come.
func (w *h2WebSocket) keepalive() {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.released || w.gone || w.closeSent || w.disc != nil {
		return
	}
	now := time.Now()
	switch {
	case w.inWaiting:
		w.pingAt = time.Time{}
		w.armLocked(w.cfg.PingInterval, w.keepalive)
	case !w.pingAt.IsZero() && !w.heardAt.After(w.pingAt):
		c.srv.log.Info("WebSocket connection failed", "client", c.gc.RemoteAddr(), "stream", w.id, "code", errH2PingTimeout.Code, "reason", errH2PingTimeout.Reason)
		w.disconnectLocked(websocket.CloseAbnormal, "") // the peer never answered
		w.sendCloseLocked(errH2PingTimeout.Code, errH2PingTimeout.Reason)
	case now.Sub(w.heardAt) < w.cfg.PingInterval:
		w.pingAt = time.Time{}
		w.armLocked(w.cfg.PingInterval-now.Sub(w.heardAt), w.keepalive)
	default:
		w.queueLocked(websocket.AppendPing(nil, nil), false)
		w.pingAt = now
		if w.cfg.PingTimeout > 0 {
			w.armLocked(w.cfg.PingTimeout, w.keepalive)
		} else {
			w.pingAt = time.Time{}
			w.armLocked(w.cfg.PingInterval, w.keepalive)
		}
	}
}

// ---- Stream end ----

// disconnectLocked records how the WebSocket ended for the app; the first call wins.
func (w *h2WebSocket) disconnectLocked(code int, reason string) {
	if w.disc == nil {
		w.disc = &asgi.WebSocketDisconnect{Code: code, Reason: reason}
		w.wakeReceiverLocked()
		if w.handler != nil { // delivered on the loop, after Feed or the flush
			w.h.wantPumpLocked(w)
			w.c.scheduleFlushLocked()
		}
	}
}

// goneLocked ends the stream for the app (reset, connection gone): receive returns
// websocket.disconnect with code, send fails.
func (w *h2WebSocket) goneLocked(code int) {
	if w.gone {
		return
	}
	w.gone = true
	w.out = nil
	w.leaveBacklogLocked()
	w.disconnectLocked(code, "")
	w.wakeSenderLocked()
	if w.stop != nil {
		w.stop()
	}
}

// maybeReleaseLocked releases the stream once the app returned and the stream is
// over: reset, an HTTP answer (refusal, denial) written whole, or both sides of an
// accepted WebSocket ended. Never inside Feed (it calls the Conn).
func (w *h2WebSocket) maybeReleaseLocked() {
	if w.released || !w.appExited || !(w.gone || w.endSent && (w.inEnd || w.status != 200)) {
		return
	}
	w.released = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.leaveBacklogLocked()
	w.c.pending = w.h.proto.Release(w.c.pending, w.id)
	delete(w.h.ws, w.id)
}

// ---- Input (loop goroutine) ----

// onData takes DATA bytes inside Feed (c.mu held); they are parsed after it (pump).
func (w *h2WebSocket) onData(data []byte, end bool) {
	if w.gone {
		return
	}
	w.in = append(w.in, data...)
	w.heardAt = w.h.now
	if end {
		w.inEnd = true
	}
	w.h.wantPumpLocked(w)
}

// pump parses the received input while the app has room and the output is not
// backlogged, and grants what it consumed back to the peer's window. Loop only, c.mu
// not held.
func (w *h2WebSocket) pump() {
	c := w.c
	c.mu.Lock()
	w.wantPump = false
	reading, gone := w.reading, w.gone
	c.mu.Unlock()
	consumed := 0
	if reading && !gone && !w.failed {
		consumed = w.parse()
	} else if gone || w.failed {
		consumed = len(w.in)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if consumed > 0 {
		n := len(c.pending)
		c.pending = w.h.proto.Consumed(c.pending, w.id, consumed)
		if len(c.pending) > n {
			c.scheduleFlushLocked()
		}
		w.in = append(w.in[:0], w.in[consumed:]...)
	}
	if len(w.in) == 0 && cap(w.in) > 4<<10 {
		w.in = nil
	}
	w.inWaiting = len(w.in) > 0
	if len(w.in) == 0 && w.inEnd && !w.gone && w.reading {
		// The peer ended its side: after its close frame, our echo already ends
		// ours; without one, the WebSocket dropped (1006).
		w.disconnectLocked(websocket.CloseAbnormal, "")
		w.closeSent = true
		w.queueLocked(nil, true)
	}
	if w.inEnd && !w.reading && !w.gone && w.order.State == asgi.WebSocketHandshake {
		w.disconnectLocked(websocket.CloseAbnormal, "") // gave up before the answer
	}
	w.maybeReleaseLocked()
	if w.handler != nil && w.disc != nil && !w.delivered {
		c.mu.Unlock()
		w.endEvents()
		c.mu.Lock()
	}
}

// parse feeds the frame reader and handles its events; it returns the bytes
// consumed. It stops while the inbox is full or the output is backlogged (the
// rest stays in w.in, its window not granted): the app's receive or the drain
// resumes it. Loop only.
func (w *h2WebSocket) parse() int {
	c := w.c
	consumed := 0
	for consumed < len(w.in) || w.reader != nil && !w.reader.Idle() && !w.reader.Closed() {
		if w.mustPause() {
			return consumed
		}
		if w.reader == nil {
			w.reader = websocket.NewReader(w.cfg, w.deflate)
		}
		n, ev, err := w.reader.Feed(w.in[consumed:])
		consumed += n
		if err == nil && !w.chargeInflate(w.reader.TakeInflated()) {
			c.srv.log.Warn("WebSocket client over its inflate budget", "client", c.gc.RemoteAddr(), "max_inflate_rate", w.cfg.MaxInflateRate)
			err = errInflateBudget
		}
		if err != nil {
			w.fail(err)
			return len(w.in)
		}
		if ev.Kind == websocket.EventNone {
			break
		}
		w.handle(ev)
		if w.reader.Closed() {
			return len(w.in)
		}
	}
	return consumed
}

// mustPause reports whether parsing must wait for the app (full inbox) or for the
// peer to take our output (pongs of a peer that does not read). Loop only.
func (w *h2WebSocket) mustPause() bool {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	return w.handler == nil && !w.closeSent && (len(w.inbox) >= w.cfg.MaxQueuedMessages || w.inboxBytes >= w.cfg.MaxMessageSize) ||
		len(w.out) > c.srv.cfg.WriteHighWater
}

func (w *h2WebSocket) chargeInflate(n int) bool {
	rate := w.cfg.MaxInflateRate
	if n == 0 || rate <= 0 || w.zb == nil {
		return true
	}
	b := &w.zb.in
	b.settle(rate, time.Now().UnixNano())
	b.debt += int64(n)
	return b.debt <= burst(w.cfg, rate)
}

// handle processes one event of the frame reader. Loop only.
func (w *h2WebSocket) handle(ev websocket.Event) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.Kind {
	case websocket.EventMessage:
		if w.disc != nil || w.closeSent {
			return // the conversation is over; the peer's close reply comes through
		}
		if w.handler != nil {
			c.mu.Unlock()
			m := &c.loop.wsReceive
			m.Data, m.Text = ev.Data, ev.Text
			w.deliver(m)
			m.Data = nil
			c.mu.Lock()
			return
		}
		w.inbox = append(w.inbox, &asgi.WebSocketReceive{Data: cloneBytes(ev.Data), Text: ev.Text})
		w.inboxBytes += len(ev.Data)
		w.wakeReceiverLocked()
	case websocket.EventPing:
		if !w.closeSent {
			w.queueLocked(websocket.AppendPong(nil, ev.Data), false)
		}
	case websocket.EventClose:
		// Echo the peer's code with END_STREAM, or end our side after our own close.
		w.disconnectLocked(ev.Code, string(ev.Reason))
		if !w.closeSent {
			w.closeSent = true
			w.queueLocked(websocket.AppendClose(nil, ev.Code, ""), true)
		} else {
			w.queueLocked(nil, true)
		}
		w.armLocked(w.cfg.CloseTimeout, w.closeTimedOut) // for the peer's END_STREAM
	}
}

// fail closes the WebSocket after a protocol error with the error's close code.
func (w *h2WebSocket) fail(err error) {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		ce = &websocket.CloseError{Code: websocket.CloseInternalError, Reason: err.Error()}
	}
	c := w.c
	w.failed = true
	c.srv.log.Info("WebSocket connection failed", "client", c.gc.RemoteAddr(), "stream", w.id, "code", ce.Code, "reason", ce.Reason)
	c.mu.Lock()
	defer c.mu.Unlock()
	w.disconnectLocked(ce.Code, ce.Reason)
	if !w.closeSent {
		w.closeSent = true
		w.queueLocked(websocket.AppendClose(nil, ce.Code, ce.Reason), false)
	}
	// The peer's input is not read any more: END_STREAM now.
	w.queueLocked(nil, true)
	w.armLocked(w.cfg.CloseTimeout, w.closeTimedOut)
}
