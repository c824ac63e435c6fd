package eventloop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/h2"
)

// HTTP/2 glue: the h2 state machine (protocol/h2) fed by the loop, with one app per
// stream on the executor, or on the loop itself for bodyless requests whose app is an
// asgi.Inliner (its sends never block: what the peer's windows do not take waits in a
// per-stream backlog that the loop writes as WINDOW_UPDATEs arrive).
//
// Locking: h2Conn.proto, h2Conn's guarded fields and every h2Stream's guarded fields
// are protected by the connection's mutex c.mu. The loop holds it around Feed (the
// h2.Handler callbacks run inside Feed, with c.mu held); app goroutines hold it around
// the response methods. All HTTP/2 output, from either side, is appended to c.pending
// under c.mu, so HPACK encoding and frame queueing happen in one order; the loop hands
// c.pending to gnet on its flush.
//
// Connection setup: prior-knowledge h2c is detected from the client preface on a new
// connection (startsHTTP2); "Upgrade: h2c" requests without a body are answered 101 and
// continue as HTTP/2 stream 1 (startH2CUpgrade). A TLS transport with ALPN "h2" feeds
// the same h2Conn (newH2Conn + start) with the decrypted bytes.

var h2Upgrade101 = []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")

// h2Conn is the HTTP/2 protocol of a connection.
type h2Conn struct {
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

	// Owned by the loop goroutine:
	draining bool
}

// startsHTTP2 switches a new connection that opens with the HTTP/2 client preface to
// HTTP/2. While only a prefix of the preface has arrived it consumes nothing and waits.
func (h *h1Conn) startsHTTP2(c *conn, data []byte) bool {
	if c.srv.cfg.DisableHTTP2 {
		return false
	}
	n := min(len(data), len(h2.ClientPreface))
	if n == 0 || string(data[:n]) != h2.ClientPreface[:n] {
		return notHTTP(c, data)
	}
	if n < len(h2.ClientPreface) {
		return true // wait for the rest of the preface
	}
	h.draining = true // the HTTP/1.1 handler is done with this connection
	startHTTP2(c)
	return true
}

// startHTTP2 makes c speak HTTP/2 from now on: it queues the server preface and
// expects the client preface next. Prior-knowledge h2c uses it, and so will a TLS
// transport after ALPN selected "h2": the protocol only sees plaintext bytes.
func startHTTP2(c *conn) {
	hc := newH2Conn(c)
	c.mu.Lock()
	c.pending = hc.proto.Start(c.pending)
	c.mu.Unlock()
	c.proto = hc
}

// notHTTP closes, without an answer, a new connection whose first line is complete and
// is not HTTP at all (no "HTTP/" in any letter case): such a peer (for example an
// HTTP/2 client with a broken preface, RFC 9113 3.4) cannot read an HTTP/1.1 error
// response. Empty lines before the first line are skipped (RFC 9112 2.2; the parser
// bounds them), and a malformed HTTP/1.x request line ("http/1.1") is left to the
// parser, which answers 400.
func notHTTP(c *conn, data []byte) bool {
	data = bytes.TrimLeft(data[:min(len(data), 8<<10)], "\r\n")
	line, _, found := bytes.Cut(data, []byte("\r\n"))
	if !found || containsFold(line, "http/") {
		return false
	}
	c.srv.log.Info("not an HTTP request; closing", "client", c.gc.RemoteAddr())
	c.markGone()
	c.closeNow()
	return true
}

// containsFold reports whether b contains the lower-case ASCII string s in any letter
// case, without allocating.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if asgi.EqualFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// isH2CUpgrade reports whether req asks for Upgrade: h2c and qualifies: HTTP/1.1, no
// body (requests with a body are simply served on HTTP/1.1), one HTTP2-Settings field.
func (h *h1Conn) isH2CUpgrade(req *h1.Request) bool {
	return !h.draining && req.ProtoMinor == 1 && asgi.EqualFold(req.Upgrade, "h2c") && !req.HasBody() &&
		len(req.Headers.Values("http2-settings")) == 1
}

// startH2CUpgrade answers 101 to an Upgrade: h2c request and continues the connection
// as HTTP/2 with the request on stream 1. It returns false (serve on HTTP/1.1) when
// HTTP/2 is off or the HTTP2-Settings field is invalid.
func (h *h1Conn) startH2CUpgrade(c *conn, req *h1.Request) bool {
	if c.srv.cfg.DisableHTTP2 {
		return false
	}
	scope := buildHTTPScope(c, req)
	scope.HTTPVersion = "2"
	hc := newH2Conn(c)
	c.mu.Lock()
	mark := len(c.pending)
	c.pending = append(c.pending, h2Upgrade101...)
	var err error
	c.pending, err = hc.proto.StartUpgrade(c.pending, string(req.Headers.Get("http2-settings")))
	if err != nil {
		c.pending = c.pending[:mark]
		c.mu.Unlock()
		return false
	}
	st := newH2Stream(hc, 1, scope, req.IsHead())
	st.bodyDone = true
	hc.streams[1] = st
	c.mu.Unlock()
	h.releaseParser(c)
	h.draining = true // the HTTP/1.1 handler is done with this connection
	c.proto = hc
	c.setTimer(c.srv.cfg.HeaderTimeout) // the client preface must follow
	hc.start(st)
	return true
}

func newH2Conn(c *conn) *h2Conn {
	hc := &h2Conn{c: c, streams: make(map[uint32]*h2Stream)}
	hc.proto = h2.NewConn(c.srv.cfg.HTTP2, hc)
	return hc
}

// maxUnsentControl bounds the unsent output beyond which a peer that keeps sending
// frames which need answers (PING, SETTINGS) while not reading is disconnected. Apps
// block at WriteHighWater, so only a single very large body message gets near it.
const maxUnsentControl = 16 << 20

func (h *h2Conn) onData(c *conn, data []byte) (int, error) {
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
	started := h.takeStartedLocked(err != nil)
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
	if peerGoAway && !h.draining {
		h.onDrain(c)
	}
	h.armTimer(c)
	return n, nil
}

// takeStartedLocked returns the streams opened by the last Feed whose app should run.
// Streams already reset (Rapid Reset: opened and cancelled in one read) and, after a
// connection error, all of them are released without running their app.
func (h *h2Conn) takeStartedLocked(connFailed bool) []*h2Stream {
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
func (h *h2Conn) start(st *h2Stream) {
	cfg := &h.c.srv.cfg
	if cfg.LimitConcurrency > 0 && h.c.srv.inflight.Load() >= int64(cfg.LimitConcurrency) {
		st.refuse(503, "server is at its concurrency limit")
		return
	}
	if cfg.MaxBodyBytes > 0 && st.declaredLen > cfg.MaxBodyBytes {
		st.refuse(413, "request body too large")
		return
	}
	if st.bodyDone && asgi.CanInline(h.c.srv.app, st.scope) {
		st.inline = true
		st.finish(st.call())
		return
	}
	h.c.srv.inflight.Add(1)
	h.c.seedPending()
	h.c.srv.exec.Go(st)
}

// armTimer sets the connection timer for the current state: the preface timeout until
// the connection is established, then the earliest of the stalled-send and stalled-body
// deadlines (BodyTimeout), or the keep-alive timeout when no stream is active. Loop
// goroutine only.
func (h *h2Conn) armTimer(c *conn) {
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
func (h *h2Conn) waitingBodyLocked() bool {
	for _, st := range h.streams {
		if st.waitingBodyLocked() {
			return true
		}
	}
	return false
}

func (st *h2Stream) waitingBodyLocked() bool { return !st.bodyDone && !st.gone && st.body.empty() }

func (h *h2Conn) onTimer(c *conn) {
	now := time.Now()
	timeout := c.srv.cfg.BodyTimeout
	c.mu.Lock()
	switch {
	case !h.proto.Established():
		c.mu.Unlock()
		c.srv.log.Info("HTTP/2 preface timed out", "client", c.gc.RemoteAddr())
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
func (h *h2Conn) timeoutBodiesLocked() {
	c := h.c
	for _, st := range h.streams {
		if !st.waitingBodyLocked() {
			continue
		}
		c.srv.log.Info("request body timed out", "client", c.gc.RemoteAddr(), "stream", st.id)
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
// the connection closes (afterFlush).
func (h *h2Conn) onDrain(c *conn) {
	h.draining = true
	c.mu.Lock()
	c.pending = h.proto.Shutdown(c.pending)
	drained := h.proto.Drained()
	c.mu.Unlock()
	if drained {
		c.closeAfterFlush()
	}
}

// afterFlush runs on the loop after output queued by apps was handed to gnet.
func (h *h2Conn) afterFlush(c *conn) {
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

func (h *h2Conn) onClose(c *conn) { h.disconnectAll() }

// disconnectAll tells every stream's app that the client is gone.
func (h *h2Conn) disconnectAll() {
	h.c.mu.Lock()
	for _, st := range h.streams {
		st.goneLocked()
	}
	h.c.mu.Unlock()
}

// h2.Handler: called inside Feed with c.mu held.

func (h *h2Conn) OnRequest(id uint32, req *h2.Request) {
	c := h.c
	scope := h2.NewScope(req)
	client, server := c.addrs()
	scope.Client, scope.Server = client, server
	scope.RootPath = c.srv.cfg.RootPath
	scope.Path = c.srv.cfg.RootPath + scope.Path
	scope.State = c.srv.state()
	scope.Extensions = httpExtensions
	st := newH2Stream(h, id, scope, req.Method == "HEAD")
	h.lastRead = h.now
	st.declaredLen = req.ContentLength
	st.bodyDone = req.EndStream
	h.streams[id] = st
	h.started = append(h.started, st)
}

func (h *h2Conn) OnData(id uint32, data []byte, end bool) {
	st := h.streams[id]
	if st == nil || st.gone {
		return // the Conn grants unconsumed bytes back when the stream is released
	}
	h.lastRead = h.now
	if len(data) > 0 {
		st.received += int64(len(data))
		if max := h.c.srv.cfg.MaxBodyBytes; max > 0 && st.received > max {
			st.tooLarge = true
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

func (h *h2Conn) OnReset(id uint32, code h2.ErrCode) {
	if st := h.streams[id]; st != nil {
		st.goneLocked()
	}
}

func (h *h2Conn) OnSendWindow(id uint32) {
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

func (h *h2Conn) OnGoAway(code h2.ErrCode, lastStreamID uint32) { h.peerGoAway = true }

// h2Stream is one HTTP/2 request and its response.
type h2Stream struct {
	h     *h2Conn
	c     *conn
	id    uint32
	scope *asgi.HTTPScope
	ctx   context.Context
	stop  context.CancelFunc

	// Set at creation (inline before the app runs), then read-only:
	isHead  bool
	inline  bool // the app runs on the loop goroutine: its sends never block
	started time.Time

	// Guarded by c.mu:
	declaredLen  int64
	received     int64
	body         bodyQueue
	bodyDone     bool
	deliveredEnd bool
	recvWait     chan struct{} // closed when body arrives or the stream goes
	winWait      chan struct{} // closed when a send window grows or the stream goes
	gone         bool          // reset, connection closed, or the app finished
	tooLarge     bool          // the body exceeded MaxBodyBytes: answered 413
	order        asgi.HTTPResponseOrder
	status       int
	trailers     asgi.Headers

	// Inline streams only, guarded by c.mu: output the peer's windows did not take yet.
	backlog         []byte
	backlogEnd      bool         // the backlog ends the body
	backlogTrailers asgi.Headers // trailers to send after the backlog
	hasTrailers     bool
	appDone         bool // the app returned: release once the backlog is written
	inBacklog       bool // listed in h2Conn.backlogged and counted in blocked
}

func newH2Stream(h *h2Conn, id uint32, scope *asgi.HTTPScope, isHead bool) *h2Stream {
	st := &h2Stream{h: h, c: h.c, id: id, scope: scope, isHead: isHead, started: time.Now(), declaredLen: -1}
	st.ctx, st.stop = context.WithCancel(context.Background())
	return st
}

func (st *h2Stream) goneLocked() {
	if st.gone {
		return
	}
	st.gone = true
	st.body.release()
	st.wakeReceiverLocked()
	st.wakeSenderLocked()
	st.stop()
}

func (st *h2Stream) wakeReceiverLocked() {
	if st.recvWait != nil {
		close(st.recvWait)
		st.recvWait = nil
	}
}

func (st *h2Stream) wakeSenderLocked() {
	if st.winWait != nil {
		close(st.winWait)
		st.winWait = nil
	}
}

// refuse answers the stream on the server's behalf (loop goroutine).
func (st *h2Stream) refuse(status int, reason string) {
	c := st.c
	c.srv.log.Warn("request refused", "client", c.gc.RemoteAddr(), "status", status, "reason", reason)
	c.mu.Lock()
	st.status = status
	st.writeErrorLocked(status, reason)
	st.releaseLocked()
	c.mu.Unlock()
}

func (st *h2Stream) writeErrorLocked(status int, text string) {
	c, p := st.c, st.h.proto
	headers := asgi.H("content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(text)))
	var err error
	if c.pending, err = p.WriteHeaders(c.pending, st.id, status, headers, false); err == nil {
		c.pending, _, _ = p.WriteData(c.pending, st.id, []byte(text), true)
	}
}

// releaseLocked ends the stream's life in the glue and the Conn.
func (st *h2Stream) releaseLocked() {
	st.leaveBacklogLocked()
	st.goneLocked()
	st.c.pending = st.h.proto.Release(st.c.pending, st.id)
	delete(st.h.streams, st.id)
}

// run runs the app on an executor goroutine.
func (st *h2Stream) run() {
	defer st.c.srv.inflight.Add(-1)
	defer st.stop()
	err := st.call()
	st.finish(err)
}

func (st *h2Stream) call() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return st.c.srv.app.ServeASGI(st.ctx, st.scope, st.receive, st.send)
}

// finish is HTTP/2's failure policy: an app that failed or returned before completing
// its response gets a 500 if nothing was sent yet, otherwise RST_STREAM INTERNAL_ERROR.
func (st *h2Stream) finish(err error) {
	c := st.c
	c.mu.Lock()
	complete := st.order.State == asgi.HTTPResponseComplete
	switch {
	case st.tooLarge && !st.order.Started() && !c.gone:
		st.status = 413
		st.writeErrorLocked(413, "request body too large")
	case complete && err != nil:
		c.srv.log.Error("exception in ASGI application after the response completed", "path", st.scope.Path, "err", err)
	case !complete && !st.gone && !c.gone:
		if err == nil {
			err = errors.New("ASGI callable returned without completing response.")
		}
		c.srv.log.Error("exception in ASGI application", "method", st.scope.Method, "path", st.scope.Path, "err", err)
		if !st.order.Started() {
			st.status = 500
			st.writeErrorLocked(500, "Internal Server Error")
		} else {
			c.pending = st.h.proto.Reset(c.pending, st.id, h2.ErrCodeInternal)
		}
	}
	if len(st.backlog) > 0 && complete && err == nil && !st.gone {
		st.appDone = true // released by drainBacklogLocked
	} else {
		st.releaseLocked()
	}
	if !st.inline {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	st.accessLog()
}

// receive is the app's Receive.
func (st *h2Stream) receive(ctx context.Context) (asgi.Message, error) {
	c := st.c
	c.mu.Lock()
	for {
		if st.gone {
			c.mu.Unlock()
			return &asgi.HTTPDisconnect{}, nil
		}
		if b := st.popBodyLocked(); b != nil {
			more := !st.bodyDone || !st.body.empty()
			st.deliveredEnd = !more
			c.mu.Unlock()
			return &asgi.HTTPRequest{Body: b, MoreBody: more}, nil
		}
		if st.bodyDone && !st.deliveredEnd {
			st.deliveredEnd = true
			c.mu.Unlock()
			return &asgi.HTTPRequest{}, nil
		}
		if st.deliveredEnd && st.order.State == asgi.HTTPResponseComplete {
			c.mu.Unlock()
			return &asgi.HTTPDisconnect{}, nil // nothing more will come
		}
		if st.inline {
			c.mu.Unlock()
			return nil, errInlineWouldBlock
		}
		if st.recvWait == nil {
			st.recvWait = make(chan struct{})
			c.scheduleFlushLocked() // the loop re-arms the body timer (afterFlush)
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

// maxReceiveChunk is the most body bytes merged into one http.request message.
const maxReceiveChunk = 64 << 10

// popBodyLocked takes the queued body bytes (merging small DATA frames up to
// maxReceiveChunk) and grants them back to the peer's windows.
func (st *h2Stream) popBodyLocked() []byte {
	b, _ := st.body.pop()
	if b == nil {
		return nil
	}
	for len(b) < maxReceiveChunk && len(st.body.mem) > 0 && len(b)+len(st.body.mem[0]) <= maxReceiveChunk {
		next, _ := st.body.pop()
		b = append(b, next...)
	}
	c := st.c
	n := len(c.pending)
	c.pending = st.h.proto.Consumed(c.pending, st.id, len(b))
	if len(c.pending) > n {
		// A window reopened: the client gets a whole BodyTimeout from now.
		st.h.lastRead = time.Now()
		c.scheduleFlushLocked()
	}
	return b
}

// send is the app's Send.
func (st *h2Stream) send(ctx context.Context, msg asgi.Message) error {
	if ps, ok := msg.(*asgi.HTTPResponsePathsend); ok {
		return st.sendFile(ctx, ps)
	}
	c := st.c
	if err := lockForSend(c, &st.gone, &st.order, msg); err != nil {
		return err
	}
	var err error
	switch m := msg.(type) {
	case *asgi.HTTPResponseStart:
		err = st.writeStartLocked(m)
	case *asgi.HTTPResponseBody:
		body := m.Body
		if st.isHead {
			body = nil
		}
		if st.inline {
			return st.writeDataInlineLocked(body, !m.MoreBody)
		}
		return st.writeDataLocked(ctx, body, !m.MoreBody)
	case *asgi.HTTPResponseTrailers:
		err = st.writeTrailersLocked(m)
	}
	return st.queuedLocked(ctx, err)
}

func (st *h2Stream) writeStartLocked(m *asgi.HTTPResponseStart) error {
	st.status = m.Status
	if m.Trailers {
		st.h.proto.AnnounceTrailers(st.id)
	}
	var err error
	st.c.pending, err = st.h.proto.WriteHeaders(st.c.pending, st.id, m.Status, m.Headers, false)
	return err
}

// writeTrailersLocked collects trailers and sends them with the last message (after
// the backlog of an inline stream, if any).
func (st *h2Stream) writeTrailersLocked(m *asgi.HTTPResponseTrailers) error {
	st.trailers = append(st.trailers, m.Headers.Clone()...)
	var err error
	switch {
	case m.MoreTrailers:
	case len(st.backlog) > 0:
		st.backlogTrailers, st.hasTrailers = st.trailers, true
	default:
		st.c.pending, err = st.h.proto.WriteTrailers(st.c.pending, st.id, st.trailers)
	}
	return err
}

// queuedLocked finishes a send whose frames are queued: it schedules the flush (the
// loop flushes inline streams at the end of the event) and applies backpressure.
// Called with c.mu held; returns with it released.
func (st *h2Stream) queuedLocked(ctx context.Context, err error) error {
	c := st.c
	if !st.inline {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	if err != nil {
		return asgi.ErrDisconnected
	}
	if st.inline || st.order.State == asgi.HTTPResponseComplete {
		return nil // nothing waits behind a response's final message; see waitWritable
	}
	return c.waitWritable(ctx)
}

// writeDataInlineLocked sends data for an app running on the loop, which must not
// block: what the peer's windows do not take now waits in the stream's backlog and is
// written as windows open (drainBacklogsLocked). Returns with c.mu released.
func (st *h2Stream) writeDataInlineLocked(data []byte, end bool) error {
	c, h := st.c, st.h
	if len(st.backlog) > 0 {
		st.backlog = append(st.backlog, data...)
		st.backlogEnd = end
		c.mu.Unlock()
		return nil
	}
	var n int
	var err error
	c.pending, n, err = h.proto.WriteData(c.pending, st.id, data, end)
	if err == nil && n < len(data) {
		st.backlog = append([]byte(nil), data[n:]...)
		st.backlogEnd = end
		h.backlogged = append(h.backlogged, st)
		st.inBacklog = true
		if h.blocked == 0 {
			h.stallFrom = time.Now()
		}
		h.blocked++ // counts for the stalled-window timeout
	}
	c.mu.Unlock()
	if err != nil {
		return asgi.ErrDisconnected
	}
	return nil
}

// drainBacklogsLocked writes inline streams' backlogs as far as the windows allow. It
// runs on the loop after Feed, which may have opened windows.
func (h *h2Conn) drainBacklogsLocked() {
	kept := h.backlogged[:0]
	for _, st := range h.backlogged {
		if st.inBacklog && !st.drainBacklogLocked() {
			kept = append(kept, st)
		}
	}
	clear(h.backlogged[len(kept):])
	h.backlogged = kept
}

// drainBacklogLocked reports whether st's backlog is done (written or dropped).
func (st *h2Stream) drainBacklogLocked() bool {
	c, h := st.c, st.h
	if !st.gone {
		var n int
		var err error
		c.pending, n, err = h.proto.WriteData(c.pending, st.id, st.backlog, st.backlogEnd)
		st.backlog = st.backlog[n:]
		if err == nil && len(st.backlog) > 0 {
			return false
		}
		if err == nil && st.hasTrailers {
			c.pending, _ = h.proto.WriteTrailers(c.pending, st.id, st.backlogTrailers)
		}
	}
	st.leaveBacklogLocked()
	if st.appDone {
		st.releaseLocked()
	}
	return true
}

// leaveBacklogLocked drops st's backlog and its count in the stalled-window timer.
func (st *h2Stream) leaveBacklogLocked() {
	st.backlog, st.backlogTrailers = nil, nil
	if st.inBacklog {
		st.inBacklog = false
		st.h.blocked--
	}
}

// writeDataLocked sends data within the peer's windows, blocking while they are closed
// and while the connection has too much unsent output. Called with c.mu held; returns
// with it released.
func (st *h2Stream) writeDataLocked(ctx context.Context, data []byte, end bool) error {
	c, h := st.c, st.h
	for {
		var n int
		var err error
		c.pending, n, err = h.proto.WriteData(c.pending, st.id, data, end)
		data = data[n:]
		c.scheduleFlushLocked()
		if err != nil || st.gone {
			c.mu.Unlock()
			return asgi.ErrDisconnected
		}
		if len(data) == 0 || n > 0 {
			c.mu.Unlock()
			if len(data) == 0 && end {
				return nil // the final frame is queued; see waitWritable
			}
			if err := c.waitWritable(ctx); err != nil || len(data) == 0 {
				return err
			}
			c.mu.Lock()
			continue
		}
		if err := st.waitWindowLocked(ctx); err != nil {
			return err
		}
	}
}

// waitWindowLocked waits (releasing c.mu) until a send window grows, the stream goes,
// or ctx is done; it returns with c.mu held, or released with an error.
func (st *h2Stream) waitWindowLocked(ctx context.Context) error {
	c, h := st.c, st.h
	if st.winWait == nil {
		st.winWait = make(chan struct{})
	}
	wait := st.winWait
	if h.blocked == 0 {
		h.stallFrom = time.Now()
	}
	h.blocked++
	c.mu.Unlock()
	var err error
	select {
	case <-wait:
	case <-ctx.Done():
		err = ctx.Err()
	}
	c.mu.Lock()
	h.blocked--
	if err == nil && (st.gone || c.gone) {
		err = asgi.ErrDisconnected
	}
	if err != nil {
		c.mu.Unlock()
	}
	return err
}

// sendFile implements http.response.pathsend over HTTP/2: the server reads the file
// in chunks and sends them within the peer's windows.
func (st *h2Stream) sendFile(ctx context.Context, ps *asgi.HTTPResponsePathsend) error {
	check := func() error {
		if err := lockForSend(st.c, &st.gone, &st.order, ps); err != nil {
			return err
		}
		st.c.mu.Unlock()
		return nil
	}
	return sendPath(ps.Path, check, func(b []byte, last bool) error {
		st.c.mu.Lock()
		if st.inline {
			return st.writeDataInlineLocked(b, last)
		}
		return st.writeDataLocked(ctx, b, last)
	})
}

// accessLog writes one line per stream, in uvicorn's shape.
func (st *h2Stream) accessLog() {
	if !st.c.srv.cfg.AccessLog {
		return
	}
	q := ""
	if len(st.scope.QueryString) > 0 {
		q = "?" + string(st.scope.QueryString)
	}
	host, port := "", 0
	if cl := st.scope.Client; cl != nil {
		host, port = cl.Host, cl.Port
	}
	st.c.srv.log.Info(fmt.Sprintf("%s:%d - \"%s %s%s HTTP/2\" %d", host, port,
		st.scope.Method, st.scope.RawPath, q, st.status),
		"duration", time.Since(st.started).Round(time.Microsecond))
}
