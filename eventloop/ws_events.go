package eventloop

import (
	"errors"
	"unicode/utf8"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// Event mode: an app that implements asgi.WebSocketEventer is called on the loop with
// each message instead of running on a goroutine blocked in receive. Messages go to
// the handler as the frame reader completes them (their Data points into the reader's
// buffers, valid for the call), sends are encoded straight into the pending output,
// and the loop flushes once at the end of the event, so an echo costs one read and
// one write per batch of messages and an idle connection holds no goroutine, context
// or inbox. Reading pauses on unsent output above WriteHighWater exactly as in
// goroutine mode; sends from other goroutines that find the output above it get
// asgi.ErrBackpressure instead of blocking.

// startEvents begins event mode with websocket.connect. Loop only.
func (w *wsSession) startEvents(c *conn, h asgi.WebSocketHandler) {
	w.handler = h
	if l, ok := h.(asgi.WebSocketMessageLimiter); ok {
		w.cfg = c.loop.wsConfigLimited(w.cfg, l.MaxMessageSize())
	}
	w.holds.Store(1) // only the connection: no app goroutine to wait for
	w.deliver(c, &asgi.WebSocketConnect{})
	// The addresses were cached for the scope, which the handler has; this connection
	// builds no other (the access log looks them up again).
	c.client, c.server = nil, nil
}

// deliverMessage hands one complete message to the handler. As in goroutine mode,
// messages that arrive after the connection ended or the server's close frame was
// queued are dropped. Loop only.
func (w *wsSession) deliverMessage(c *conn, data []byte, text bool) {
	c.mu.Lock()
	drop := w.disc != nil || w.closeSent
	c.mu.Unlock()
	if drop {
		return
	}
	m := &c.loop.wsReceive
	m.Data, m.Text = data, text
	w.deliver(c, m)
	m.Data = nil
}

// deliver calls the handler with msg; an error fails the connection as one returned
// by ServeASGI would. It runs inside the loop's onTraffic, which flushes when the
// event ends: marking the flush as queued lets the handler's sends only append to the
// pending output instead of scheduling a loop task each. Loop only.
func (w *wsSession) deliver(c *conn, msg asgi.Message) {
	if w.appFailed {
		return
	}
	c.mu.Lock()
	c.flushQueued = true
	if c.pending == nil {
		c.pending = c.loop.takeBuf() // the sends' output goes into a reused buffer
	}
	c.mu.Unlock()
	if err := w.callHandler(msg); err != nil {
		w.appFailed = true
		w.finish(err)
	}
	c.mu.Lock()
	if c.pending != nil && len(c.pending) == 0 {
		c.loop.recycle(c.pending) // the handler sent nothing: an idle connection holds no buffer
		c.pending = nil
	}
	c.mu.Unlock()
}

// endEvents delivers websocket.disconnect, always and last, once the connection is
// gone. Loop only.
func (w *wsSession) endEvents(c *conn) {
	c.mu.Lock()
	d := *w.disc
	c.mu.Unlock()
	if err := w.callHandler(&d); err != nil && !errors.Is(err, asgi.ErrDisconnected) {
		c.srv.log.Error("exception in ASGI application", "scope", "websocket", "path", w.rawPath, "err", err)
	}
	w.accessLog()
}

// SendNow is the asgi.WebSocketSender of event mode: the message is encoded into the
// pending output at once. On the loop, during an event, the flush is already due;
// from another goroutine it schedules one. Safe for concurrent use.
func (w *wsSession) SendNow(msg asgi.Message) error {
	frame, err := w.precompress(msg, true)
	if err != nil {
		return err
	}
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := msg.(*asgi.WebSocketSend); ok && w.order.State == asgi.WebSocketConnected &&
		!c.gone && w.disc == nil && !w.closeSent &&
		c.unsentLocked() > c.srv.cfg.WriteHighWater {
		return asgi.ErrBackpressure
	}
	if err := w.sendLocked(msg, frame); err != nil {
		return err
	}
	c.scheduleFlushLocked()
	return nil
}

// preparedCheck is the websocket.send that SendPrepared checks against the ASGI
// order (the order looks only at its type).
var preparedCheck = &asgi.WebSocketSend{}

// SendPrepared is the asgi.PreparedSender of event mode: pm's frame for this
// connection's encoding (made once per encoding and kept in pm) is queued by
// reference, never copied. The connection's unsent output plus
// the frame must fit under WriteHighWater (or nothing may be unsent) before anything
// is queued, otherwise asgi.ErrBackpressure. Safe for concurrent use.
func (w *wsSession) SendPrepared(pm *asgi.PreparedMessage) error {
	frame, err := w.preparedFrame(pm)
	if err != nil {
		return err
	}
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.appDone {
		return w.order.Check(preparedCheck) // a contract error
	}
	if c.gone || w.disc != nil || w.closeSent {
		return asgi.ErrDisconnected
	}
	if err := w.order.Check(preparedCheck); err != nil {
		return err
	}
	if unsent := c.unsentLocked(); unsent > 0 && unsent+len(frame) > c.srv.cfg.WriteHighWater {
		return asgi.ErrBackpressure
	}
	c.loop.stats.wsOut(len(pm.Data()))
	// By reference, small frames too: a broadcast queues the frame to every member before
	// any member's loop has flushed, so a copy would cost members x frame bytes at once
	// (10,000 members and 1 KiB: 10 MiB per message; the admission check allows up to
	// WriteHighWater each); a reference costs one queue entry. A TLS connection encrypts
	// per connection, so it takes a copy into its pending plaintext.
	if c.tls != nil {
		c.pending = append(c.pending, frame...)
	} else {
		c.queueSharedLocked(frame)
	}
	c.scheduleFlushLocked()
	return nil
}

// preparedFrame returns pm's frame as this connection encodes it: one encoding per
// distinct websocket.Writer (compression on or off, level), shared by every
// connection that uses it.
func (w *wsSession) preparedFrame(pm *asgi.PreparedMessage) ([]byte, error) {
	wr := w.writer()
	if !wr.Compresses(len(pm.Data())) {
		wr = websocket.Writer{} // uncompressed: one encoding for every connection
	}
	v, err := pm.Encoding(wr, func(data []byte, text bool) (any, error) {
		if text && !utf8.Valid(data) {
			return nil, &asgi.ContractError{Msg: "Invalid UTF-8 in 'websocket.send' text message."}
		}
		frame, err := wr.AppendMessage(nil, text, data)
		return frame, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// wsConfigLimited returns base with MaxMessageSize (and MaxFrameSize) lowered to
// limit, for handlers that accept less than the server (asgi.WebSocketMessageLimiter):
// one shared Config per distinct limit per loop. Loop only.
func (l *loop) wsConfigLimited(base *websocket.Config, limit int) *websocket.Config {
	if limit <= 0 || limit >= base.MaxMessageSize {
		return base
	}
	if cfg := l.wsLimited[limit]; cfg != nil {
		return cfg
	}
	cfg := *base
	cfg.MaxMessageSize = limit
	cfg.MaxFrameSize = min(cfg.MaxFrameSize, limit)
	if l.wsLimited == nil {
		l.wsLimited = make(map[int]*websocket.Config)
	}
	l.wsLimited[limit] = &cfg
	return &cfg
}
