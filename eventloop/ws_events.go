package eventloop

import (
	"errors"

	"github.com/asgo-dev/asgo/protocol/asgi"
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
		len(c.pending)+int(c.outbound.Load()) > c.srv.cfg.WriteHighWater {
		return asgi.ErrBackpressure
	}
	if err := w.sendLocked(msg, frame); err != nil {
		return err
	}
	c.scheduleFlushLocked()
	return nil
}
