package eventloop

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h2"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// HTTP/2 glue: the h2 state machine (protocol/h2) fed by the loop, with one app per
// stream on the executor, or on the loop itself for bodyless requests whose app is an
// asgi.Inliner (its sends never block: what the peer's windows do not take waits in a
// per-stream backlog that the loop writes as WINDOW_UPDATEs arrive).
//
// Locking: h2Session.proto, h2Session's guarded fields and every h2Stream's guarded
// fields are protected by the connection's mutex c.mu. The loop holds it around Feed (the
// h2.Handler callbacks run inside Feed, with c.mu held); app goroutines hold it around
// the response methods. All HTTP/2 output, from either side, is appended to c.pending
// under c.mu, so HPACK encoding and frame queueing happen in one order; the loop hands
// c.pending to gnet on its flush.
//
// Connection setup is in upgrade.go: prior-knowledge h2c is detected from the client
// preface on a new connection (startsHTTP2); "Upgrade: h2c" requests without a body
// are answered 101 and continue as HTTP/2 stream 1 (startH2CUpgrade). A TLS transport
// with ALPN "h2" will switch the same way (startHTTP2) and feed the decrypted bytes.
// The streams are in h2_stream.go.

// h2Session is the HTTP/2 session of a connection.
type h2Session struct {
	c *conn

	// Guarded by c.mu:
	proto      *h2.Conn
	streams    map[uint32]*h2Stream
	started    []*h2Stream // opened by the current Feed; started after it
	backlogged []*h2Stream // inline streams with body bytes waiting for a window
	blocked    int         // senders waiting for a send window
	stallFrom  time.Time   // since when senders wait without window progress
	now        time.Time   // time of the current Feed
	lastRead   time.Time   // time request-body bytes (or a new stream) last arrived
	peerGoAway bool
	// WebSockets over HTTP/2 (h2_websocket.go), by stream id:
	ws           map[uint32]*h2WebSocket
	wsStarted    []*h2WebSocket // opened by the current Feed; started after it
	wsPump       []*h2WebSocket // input to parse, or a release to check, after Feed or flush
	wsBacklogged []*h2WebSocket // output waiting for a window
	drainWS      bool           // shutting down: WebSockets are closed with 1001
	// pumpDue is set with wsPump non-empty, so that connections without WebSockets
	// pay no lock for pumpWebSockets after every Feed and flush.
	pumpDue atomic.Bool

	// Owned by the loop goroutine:
	draining bool
}

func newH2Session(c *conn) *h2Session {
	hc := &h2Session{c: c, streams: make(map[uint32]*h2Stream), ws: make(map[uint32]*h2WebSocket)}
	hc.proto = h2.NewConn(c.srv.cfg.HTTP2, hc)
	hc.proto.SetCounters(c.loop.stats.h2Counters())
	return hc
}

// maxUnsentControl bounds the unsent output beyond which a peer that keeps sending
// frames which need answers (PING, SETTINGS) while not reading is disconnected. Apps
// block at WriteHighWater, so only a single very large body message gets near it.
const maxUnsentControl = 16 << 20

func (h *h2Session) onData(c *conn, data []byte) (int, error) {
	now := time.Now()
	c.mu.Lock()
	unsent := len(c.pending) + int(c.outbound.Load())
	h.now = now
	var n int
	var err error
	c.pending, n, err = h.proto.Feed(c.pending, data, now)
	if err == nil && unsent > maxUnsentControl && len(c.pending)+int(c.outbound.Load()) > unsent {
		c.pending = h.proto.Abort(c.pending, h2.ErrCodeEnhanceYourCalm, "peer does not read")
		err = errors.New("eventloop: HTTP/2 peer does not read its output")
	}
	if len(h.backlogged) > 0 {
		h.drainBacklogsLocked()
	}
	if len(h.wsBacklogged) > 0 {
		h.drainWebSocketsLocked()
	}
	started := h.takeStartedLocked(err != nil)
	wsStarted := h.wsStarted
	h.wsStarted = nil
	peerGoAway := h.peerGoAway
	c.mu.Unlock()
	if err != nil {
		c.srv.log.Debug("HTTP/2 connection error", "client", c.gc.RemoteAddr(), "err", err)
		h.disconnectAll()
		return n, err
	}
	for _, st := range started {
		h.start(st)
	}
	for _, w := range wsStarted {
		w.start()
	}
	h.pumpWebSockets()
	if peerGoAway && !h.draining {
		h.onDrain(c)
	}
	h.armTimer(c)
	return n, nil
}

// takeStartedLocked returns the streams opened by the last Feed whose app should run.
// Streams already reset (Rapid Reset: opened and cancelled in one read) and, after a
// connection error, all of them are released without running their app.
func (h *h2Session) takeStartedLocked(connFailed bool) []*h2Stream {
	started := h.started[:0]
	for _, st := range h.started {
		if st.gone || connFailed {
			if st.tooLarge && !connFailed {
				st.status = 413
				st.writeErrorLocked(413, "request body too large")
			}
			st.releaseLocked()
			continue
		}
		started = append(started, st)
	}
	h.started = nil
	return started
}

// start runs the app of a new stream, or answers it when the server refuses it.
func (h *h2Session) start(st *h2Stream) {
	cfg := &h.c.srv.cfg
	if cfg.LimitConcurrency > 0 && h.c.srv.inflight.Load() >= int64(cfg.LimitConcurrency) {
		st.refuse(503, "server is at its concurrency limit")
		return
	}
	if cfg.MaxBodyBytes > 0 && st.declaredLen > cfg.MaxBodyBytes {
		st.refuse(413, "request body too large")
		return
	}
	h.c.loop.stats.requestStarted(ProtoHTTP2)
	if st.bodyDone && asgi.CanInline(h.c.srv.app, st.scope) {
		st.inline = true
		st.finish(h.c.srv.callApp(st.ctx, st.scope, st.receive, st.send))
		return
	}
	h.c.srv.inflight.Add(1)
	st.callCtx.detacher = st // before the goroutine starts: it reads st.ctx
	h.c.seedPending()
	h.c.srv.exec.Go(st)
}

// armTimer sets the connection timer for the current state: the preface timeout until
// the connection is established, then the earliest of the stalled-send and stalled-body
// deadlines (BodyTimeout), or the keep-alive timeout when no stream is active. Loop
// goroutine only.
func (h *h2Session) armTimer(c *conn) {
	if c.closing || c.closed {
		return
	}
	c.mu.Lock()
	established := h.proto.Established()
	idle := h.proto.ActiveStreams() == 0
	var deadline time.Time
	if h.blocked > 0 {
		deadline = h.stallFrom.Add(c.srv.cfg.BodyTimeout)
	}
	if h.waitingBodyLocked() {
		if d := h.lastRead.Add(c.srv.cfg.BodyTimeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	c.mu.Unlock()
	switch {
	case !established:
		// The preface timer armed when the connection opened keeps running.
	case !deadline.IsZero():
		c.loop.wheel.arm(&c.timer, deadline)
	case idle:
		c.setTimer(c.srv.cfg.KeepAliveTimeout)
	default:
		c.setTimer(0)
	}
}

// waitingBodyLocked reports whether a stream waits for request-body bytes with its
// inbox empty: the client, not the app, is holding it back.
func (h *h2Session) waitingBodyLocked() bool {
	for _, st := range h.streams {
		if st.waitingBodyLocked() {
			return true
		}
	}
	return false
}

func (h *h2Session) onTimer(c *conn) {
	now := time.Now()
	timeout := c.srv.cfg.BodyTimeout
	c.mu.Lock()
	switch {
	case !h.proto.Established():
		c.mu.Unlock()
		c.srv.log.Info("HTTP/2 preface timed out", "client", c.gc.RemoteAddr())
		c.loop.stats.reject(RejectTimeout)
		c.markGone()
		c.closeNow()
		return
	case h.blocked > 0 && now.Sub(h.stallFrom) >= timeout:
		c.pending = h.proto.Abort(c.pending, h2.ErrCodeEnhanceYourCalm, "send window stalled")
		c.mu.Unlock()
		c.srv.log.Info("HTTP/2 send window stalled; closing", "client", c.gc.RemoteAddr())
		h.disconnectAll()
		c.closeAfterFlush()
		return
	case h.proto.ActiveStreams() == 0:
		c.pending = h.proto.Shutdown(c.pending)
		c.mu.Unlock()
		c.closeAfterFlush()
		return
	case now.Sub(h.lastRead) >= timeout && h.waitingBodyLocked():
		h.timeoutBodiesLocked()
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	h.armTimer(c)
}

// timeoutBodiesLocked ends the streams whose request body stalled: 408 when the
// response has not started, else RST_STREAM CANCEL; their apps see http.disconnect.
func (h *h2Session) timeoutBodiesLocked() {
	c := h.c
	for _, st := range h.streams {
		if !st.waitingBodyLocked() {
			continue
		}
		c.srv.log.Info("request body timed out", "client", c.gc.RemoteAddr(), "stream", st.id)
		c.loop.stats.reject(RejectTimeout)
		if st.order.Started() {
			c.pending = h.proto.Reset(c.pending, st.id, h2.ErrCodeCancel)
		} else {
			st.status = 408
			st.writeErrorLocked(408, "request body timeout")
		}
		st.goneLocked()
	}
}

// onDrain sends GOAWAY with the last processed stream; streams in flight complete, then
// the connection closes (onFlushed).
func (h *h2Session) onDrain(c *conn) {
	h.draining = true
	c.mu.Lock()
	h.drainWS = true
	for _, w := range h.ws {
		if w.reading {
			w.sendCloseLocked(websocket.CloseGoingAway, "server shutting down")
		}
	}
	c.scheduleFlushLocked()
	c.pending = h.proto.Shutdown(c.pending)
	drained := h.proto.Drained()
	c.mu.Unlock()
	if drained {
		c.closeAfterFlush()
	}
}

// onFlushed runs on the loop after output queued by apps was handed to gnet.
func (h *h2Session) onFlushed(c *conn) {
	h.pumpWebSockets()
	if h.draining {
		c.mu.Lock()
		drained := h.proto.Drained()
		c.mu.Unlock()
		if drained {
			c.closeAfterFlush()
			return
		}
	}
	h.armTimer(c)
}

func (h *h2Session) onClose(c *conn) {
	h.disconnectAll()
	h.pumpWebSockets() // event-mode handlers get websocket.disconnect
}

// disconnectAll tells every stream's app that the client is gone.
func (h *h2Session) disconnectAll() {
	h.c.mu.Lock()
	for _, st := range h.streams {
		st.goneLocked()
	}
	for _, w := range h.ws {
		w.goneLocked(websocket.CloseAbnormal)
	}
	h.c.mu.Unlock()
}

// h2.Handler: called inside Feed with c.mu held.

func (h *h2Session) OnRequest(id uint32, req *h2.Request) {
	c := h.c
	if req.Method == "CONNECT" && req.Protocol != "" {
		w := newH2WebSocket(h, id, req)
		h.ws[id] = w
		h.wsStarted = append(h.wsStarted, w)
		return
	}
	st := newH2Stream(h, id, h2Scope(c, req), req.Method == "HEAD")
	c.loop.stats.h2Stream()
	h.lastRead = h.now
	st.declaredLen = req.ContentLength
	st.bodyDone = req.EndStream
	h.streams[id] = st
	h.started = append(h.started, st)
}

func (h *h2Session) OnData(id uint32, data []byte, end bool) {
	if w := h.ws[id]; w != nil {
		w.onData(data, end)
		return
	}
	st := h.streams[id]
	if st == nil || st.gone {
		return // the Conn grants unconsumed bytes back when the stream is released
	}
	h.lastRead = h.now
	if len(data) > 0 {
		st.received += int64(len(data))
		if max := h.c.srv.cfg.MaxBodyBytes; max > 0 && st.received > max {
			st.tooLarge = true
			h.c.loop.stats.reject(RejectBodyTooLarge)
			st.goneLocked() // the app sees http.disconnect; finish answers 413
			return
		}
		_ = st.body.push(data, int(^uint(0)>>1), nil) // bounded by the stream window
	}
	if end {
		st.bodyDone = true
	}
	st.wakeReceiverLocked()
}

func (h *h2Session) OnReset(id uint32, code h2.ErrCode) {
	if st := h.streams[id]; st != nil {
		st.goneLocked()
	}
	if w := h.ws[id]; w != nil {
		w.goneLocked(websocket.CloseAbnormal) // the peer's RST_STREAM: 1006 for the app
		h.wantPumpLocked(w)                   // released after Feed once the app returned
	}
}

func (h *h2Session) OnSendWindow(id uint32) {
	h.stallFrom = h.now
	if id != 0 {
		if st := h.streams[id]; st != nil {
			st.wakeSenderLocked()
		}
		return
	}
	for _, st := range h.streams {
		st.wakeSenderLocked()
	}
}

func (h *h2Session) OnGoAway(code h2.ErrCode, lastStreamID uint32) { h.peerGoAway = true }

// drainBacklogsLocked writes inline streams' backlogs as far as the windows allow. It
// runs on the loop after Feed, which may have opened windows.
func (h *h2Session) drainBacklogsLocked() {
	kept := h.backlogged[:0]
	for _, st := range h.backlogged {
		if st.inBacklog && !st.drainBacklogLocked() {
			kept = append(kept, st)
		}
	}
	clear(h.backlogged[len(kept):])
	h.backlogged = kept
}

// wantPumpLocked lists w for pumpWebSockets. c.mu held.
func (h *h2Session) wantPumpLocked(w *h2WebSocket) {
	if !w.wantPump {
		w.wantPump = true
		h.wsPump = append(h.wsPump, w)
		h.pumpDue.Store(true)
	}
}

// pumpWebSockets parses the input of the WebSockets listed by wantPumpLocked (after
// Feed, or after a flush when an app made room in its inbox or accepted). Loop only,
// c.mu not held.
func (h *h2Session) pumpWebSockets() {
	for h.pumpDue.Load() {
		h.c.mu.Lock()
		list := h.wsPump
		h.wsPump = nil
		h.pumpDue.Store(false)
		h.c.mu.Unlock()
		if len(list) == 0 {
			return
		}
		for _, w := range list {
			w.pump()
		}
	}
}

// drainWebSocketsLocked writes WebSocket output as far as the windows allow, after a
// Feed that may have opened them; a stream whose backlog went below the high-water
// mark resumes parsing. c.mu held, not inside Feed.
func (h *h2Session) drainWebSocketsLocked() {
	kept := h.wsBacklogged[:0]
	for _, w := range h.wsBacklogged {
		if !w.inBacklog {
			continue
		}
		if w.pushLocked() {
			w.maybeReleaseLocked()
		} else {
			kept = append(kept, w)
		}
		if len(w.in) > 0 && len(w.out) <= h.c.srv.cfg.WriteHighWater {
			h.wantPumpLocked(w)
		}
	}
	clear(h.wsBacklogged[len(kept):])
	h.wsBacklogged = kept
}
