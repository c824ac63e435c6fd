package eventloop

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/h2"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// firstSession is the session of a new connection: HTTP/1.1, which switches to HTTP/2
// on the client preface (startsHTTP2) and to HTTP/2 or WebSocket on an Upgrade
// request (h1Session.upgrade).
func firstSession() session { return &h1Session{} }

// refuseConnection is the answer to a connection the server refuses as it opens (at
// its connection limit, or shutting down): an HTTP/1.1 503, the protocol every
// cleartext connection starts with; none for a TLS connection (no handshake yet).
func refuseConnection(secure bool, reason string) []byte {
	if secure {
		return nil
	}
	return h1.AppendError(nil, 503, reason)
}

// upgrade switches the connection when req asks for it and qualifies: to WebSocket on
// "Upgrade: websocket", to HTTP/2 on "Upgrade: h2c". It reports whether the request
// was taken over (switched, or answered and closed); false serves it on HTTP/1.1.
// Loop only.
func (h *h1Session) upgrade(c *conn, req *h1.Request) bool {
	switch {
	case h.isWebSocketUpgrade(req):
		return h.startWebSocket(c, req)
	case h.isH2CUpgrade(c, req):
		return h.startH2CUpgrade(c, req)
	}
	return false
}

// isWebSocketUpgrade reports whether req asks to switch to WebSocket.
func (h *h1Session) isWebSocketUpgrade(req *h1.Request) bool {
	return asgi.EqualFold(req.Upgrade, "websocket")
}

// h2Upgrade101 answers an "Upgrade: h2c" request that the server takes (RFC 7540 3.2).
var h2Upgrade101 = []byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")

// startsHTTP2 switches a new connection that opens with the HTTP/2 client preface to
// HTTP/2. While only a prefix of the preface has arrived it consumes nothing and waits.
func (h *h1Session) startsHTTP2(c *conn, data []byte) bool {
	if c.srv.cfg.DisableHTTP2 || c.tls != nil { // over TLS, HTTP/2 is chosen by ALPN only
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
	hc := newH2Session(c)
	c.mu.Lock()
	c.pending = hc.proto.Start(c.pending)
	c.mu.Unlock()
	c.loop.stats.connSwitched(c.session, hc)
	c.session = hc
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
func (h *h1Session) isH2CUpgrade(c *conn, req *h1.Request) bool {
	return !h.draining && c.tls == nil && req.ProtoMinor == 1 && asgi.EqualFold(req.Upgrade, "h2c") && !req.HasBody() &&
		len(req.Headers.Values("http2-settings")) == 1
}

// startH2CUpgrade answers 101 to an Upgrade: h2c request and continues the connection
// as HTTP/2 with the request on stream 1. It returns false (serve on HTTP/1.1) when
// HTTP/2 is off or the HTTP2-Settings field is invalid.
func (h *h1Session) startH2CUpgrade(c *conn, req *h1.Request) bool {
	if c.srv.cfg.DisableHTTP2 {
		return false
	}
	scope := h1Scope(c, req, "2")
	hc := newH2Session(c)
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
	c.loop.stats.connSwitched(c.session, hc)
	c.session = hc
	c.setTimer(c.srv.cfg.HeaderTimeout) // the client preface must follow
	hc.start(st)
	return true
}

// errWSConcurrency refuses an upgrade beyond Config.LimitConcurrency, before the app
// sees it.
var errWSConcurrency = &websocket.HandshakeError{Status: 503, Reason: "server is at its concurrency limit"}

// errUpgradeWithBody refuses an upgrade request that announces a body.
var errUpgradeWithBody = &websocket.HandshakeError{Status: 400, Reason: "WebSocket handshake must not have a body"}

// startWebSocket takes over a WebSocket upgrade request. It always returns true: an
// invalid handshake is answered here (400/426/403, or 503 beyond
// Config.LimitConcurrency) and the connection closed. The HTTP/1.1 session is retired
// by marking it draining, which makes its onData return at once, so the rest of the
// input goes to the WebSocket session. Loop only.
func (h *h1Session) startWebSocket(c *conn, req *h1.Request) bool {
	h.draining = true
	defer h.releaseParser(c) // req points into the parser: release it last
	c.setTimer(0)
	cfg := &c.srv.cfg.WebSocket
	hs, herr := websocket.ParseHandshake(methodString(req.Method), req.ProtoMinor, req.Headers, cfg)
	if herr == nil {
		herr = admitUpgrade(c, req)
	}
	if herr != nil {
		refuseUpgrade(c, herr)
		return true
	}
	scope := wsScope(c, req, hs.Subprotocols)
	w := &wsSession{
		c:       c,
		cfg:     cfg,
		hs:      &hs,
		deflate: hs.Deflate,
		zb:      newCompressionBudget(hs.Deflate),
		rawPath: string(scope.RawPath),
		started: time.Now().UnixNano(),
		// After a handover (StopAccepting(true)) the drain has passed this connection
		// by: close with 1001 right after the accept, as a drained handshake does.
		draining: c.srv.handover.Load(),
	}
	c.loop.stats.connSwitched(c.session, w)
	c.session = w
	w.armHandshake(c)
	if h := asgi.WebSocketHandlerFor(c.srv.app, scope); h != nil {
		w.startEvents(c, h)
		return true
	}
	w.holds.Store(2)
	w.wsApp = &wsApp{scope: scope, inbox: []asgi.Message{&asgi.WebSocketConnect{}}}
	w.ctx, w.stop = context.WithCancel(context.Background())
	c.srv.exec.Go(w)
	return true
}

// admitUpgrade applies the server's own conditions to a valid handshake: no request
// body, and room under Config.LimitConcurrency. An admitted WebSocket counts in
// Server.inflight until both its app has returned and its connection has closed
// (wsSession.release). Loop only.
func admitUpgrade(c *conn, req *h1.Request) *websocket.HandshakeError {
	switch lim := c.srv.cfg.LimitConcurrency; {
	case req.ContentLength > 0 || req.Chunked:
		return errUpgradeWithBody // its bytes would be taken for frames
	case lim > 0 && c.srv.inflight.Load() >= int64(lim):
		return errWSConcurrency
	}
	c.srv.inflight.Add(1)
	return nil
}

// refuseUpgrade answers a refused upgrade with its HTTP error and closes. Loop only.
func refuseUpgrade(c *conn, herr *websocket.HandshakeError) {
	level := slog.LevelInfo
	if herr.Status >= 500 {
		level = slog.LevelWarn
	}
	c.srv.log.Log(context.Background(), level, "WebSocket handshake refused",
		"client", c.gc.RemoteAddr(), "status", herr.Status, "reason", herr.Reason)
	if herr == errWSConcurrency {
		c.loop.stats.reject(RejectConcurrency)
	} else {
		c.loop.stats.reject(RejectHandshake)
	}
	c.queue(websocket.AppendHandshakeError(nil, herr))
	c.closeAfterFlush()
}
