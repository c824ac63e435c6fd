package eventloop

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// The app side of a WebSocket over HTTP/2 (h2_websocket.go): goroutine mode (receive
// on the inbox, send with backpressure), the checks and encoding shared with event
// mode (sendLocked), and event mode (the handler on the loop, SendNow).

// ---- App side ----

// receive is the app's Receive: websocket.connect first, then messages, then
// websocket.disconnect on every call.
func (w *h2WebSocket) receive(ctx context.Context) (asgi.Message, error) {
	c := w.c
	c.mu.Lock()
	for {
		if len(w.inbox) > 0 {
			m := w.inbox[0]
			w.inbox[0] = nil
			w.inbox = w.inbox[1:]
			if r, ok := m.(*asgi.WebSocketReceive); ok {
				w.inboxBytes -= len(r.Data)
			}
			if w.inWaiting && w.reading {
				w.h.wantPumpLocked(w) // parsing paused on the full inbox: the flush resumes it
				c.scheduleFlushLocked()
			}
			c.mu.Unlock()
			return m, nil
		}
		if w.disc != nil {
			d := *w.disc
			c.mu.Unlock()
			return &d, nil
		}
		if w.recvWait == nil {
			w.recvWait = make(chan struct{})
		}
		wait := w.recvWait
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			c.mu.Lock()
			if w.disc != nil && len(w.inbox) == 0 {
				d := *w.disc
				c.mu.Unlock()
				return &d, nil
			}
			c.mu.Unlock()
			return nil, ctx.Err()
		}
		c.mu.Lock()
	}
}

// send is the app's Send. Compression runs before c.mu is taken; the frame is queued
// on the stream, and send blocks while the stream's or the connection's unsent output
// is above WriteHighWater.
func (w *h2WebSocket) send(ctx context.Context, msg asgi.Message) error {
	frame, err := w.precompress(msg)
	if err != nil {
		return err
	}
	c := w.c
	c.mu.Lock()
	if err := w.sendLocked(msg, frame); err != nil {
		c.mu.Unlock()
		return err
	}
	for len(w.out) > c.srv.cfg.WriteHighWater && !w.gone && !c.gone {
		if w.outWait == nil {
			w.outWait = make(chan struct{})
		}
		wait := w.outWait
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
	c.mu.Unlock()
	return c.waitWritable(ctx)
}

func (w *h2WebSocket) writer() websocket.Writer { return websocket.NewWriter(w.cfg, w.deflate) }

// precompress checks a websocket.send and compresses it when it is to be compressed
// (negotiated, above the threshold, within MaxDeflateRate); nil means uncompressed.
func (w *h2WebSocket) precompress(msg asgi.Message) ([]byte, error) {
	m, ok := msg.(*asgi.WebSocketSend)
	if !ok {
		return nil, nil
	}
	if m.Text && !utf8.Valid(m.Data) {
		return nil, &asgi.ContractError{Msg: "Invalid UTF-8 in 'websocket.send' text message."}
	}
	wr := w.writer()
	if !wr.Compresses(len(m.Data)) || !w.chargeDeflate(len(m.Data)) {
		return nil, nil
	}
	return wr.AppendMessage(nil, m.Text, m.Data)
}

// chargeDeflate charges n bytes to the outbound compression budget, reporting whether
// they fit. Safe for concurrent use.
func (w *h2WebSocket) chargeDeflate(n int) bool {
	rate := w.cfg.MaxDeflateRate
	if rate <= 0 || w.zb == nil {
		return true
	}
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	b := &w.zb.out
	b.settle(rate, time.Now().UnixNano())
	if b.debt+int64(n) > burst(w.cfg, rate) {
		return false
	}
	b.debt += int64(n)
	return true
}

// sendLocked checks msg against the order and queues its frames. c.mu held.
func (w *h2WebSocket) sendLocked(msg asgi.Message, frame []byte) error {
	c := w.c
	if w.appDone {
		return w.order.Check(msg) // a contract error, whatever the peer did since
	}
	if c.gone || w.gone || w.disc != nil || w.closeSent {
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
	if before == asgi.WebSocketHandshake && w.order.State != asgi.WebSocketDenying && w.timer != nil {
		w.timer.Stop() // answered: the handshake budget is over (a denial keeps it)
	}
	var err error
	switch m := msg.(type) {
	case *asgi.WebSocketAccept:
		err = w.acceptLocked(m)
	case *asgi.WebSocketSend:
		if frame == nil {
			frame, _ = websocket.Writer{}.AppendMessage(nil, m.Text, m.Data)
		}
		w.queueLocked(frame, false)
	case *asgi.WebSocketClose:
		if before == asgi.WebSocketHandshake {
			w.status = 403
			w.writeErrorLocked(403, websocket.ErrDenied.Reason, nil)
		} else {
			w.sendCloseLocked(m.Code, m.Reason)
		}
	case *asgi.WebSocketHTTPResponseStart:
		w.status = m.Status
		c.pending, err = w.h.proto.WriteHeaders(c.pending, w.id, m.Status, m.Headers, false)
	case *asgi.WebSocketHTTPResponseBody:
		w.queueLocked(m.Body, !m.MoreBody)
	}
	if before == asgi.WebSocketHandshake {
		w.hs = nil // answered
	}
	if before != asgi.WebSocketConnected && w.order.State == asgi.WebSocketClosed {
		// Refused (403) or denied: the WebSocket never opened; as when HTTP/1.1
		// closes the connection after the answer, the app sees 1006.
		w.disconnectLocked(websocket.CloseAbnormal, "")
	}
	c.scheduleFlushLocked()
	if err != nil {
		return asgi.ErrDisconnected
	}
	return nil
}

// acceptLocked answers the CONNECT with 200 and starts parsing frames (on the loop,
// after the flush this send schedules). During a drain the close 1001 follows at once.
func (w *h2WebSocket) acceptLocked(m *asgi.WebSocketAccept) error {
	c := w.c
	fields, err := websocket.AcceptFields(nil, w.hs, m.Subprotocol, m.Headers)
	if err != nil {
		return err
	}
	if c.pending, err = w.h.proto.WriteHeaders(c.pending, w.id, 200, fields, false); err != nil {
		return err
	}
	w.status = 200
	w.reading = true
	w.heardAt = time.Now()
	w.h.wantPumpLocked(w)
	if w.cfg.PingInterval > 0 {
		w.armLocked(w.cfg.PingInterval, w.keepalive)
	}
	if w.h.drainWS {
		w.sendCloseLocked(websocket.CloseGoingAway, "server shutting down")
	}
	return nil
}

// ---- Event mode (loop goroutine) ----

// startEvents serves the WebSocket with an event-mode handler: websocket.connect now,
// each message as the reader completes it, websocket.disconnect once, last. The
// handler's smaller message limit (asgi.WebSocketMessageLimiter) applies. Loop only.
func (w *h2WebSocket) startEvents(hd asgi.WebSocketHandler) {
	w.handler = hd
	if l, ok := hd.(asgi.WebSocketMessageLimiter); ok {
		w.cfg = w.c.loop.wsConfigLimited(w.cfg, l.MaxMessageSize())
	}
	w.c.mu.Lock()
	w.inbox = nil // websocket.connect goes to the handler instead
	w.c.mu.Unlock()
	w.deliver(&asgi.WebSocketConnect{})
}

// deliver calls the handler with msg; an error fails the WebSocket as one returned by
// ServeASGI would (finish), and only websocket.disconnect follows. Loop only, c.mu
// not held.
func (w *h2WebSocket) deliver(msg asgi.Message) {
	if w.appFailed || w.delivered {
		return
	}
	if err := w.callHandler(msg); err != nil {
		w.appFailed = true
		w.finishEvents(err)
	}
}

func (w *h2WebSocket) callHandler(msg asgi.Message) (err error) {
	defer recoverApp(&err)
	return w.handler.HandleWebSocket(msg, w)
}

// finishEvents applies the failure policy to a failed handler, without ending its
// life: websocket.disconnect is still delivered (endEvents). Loop only.
func (w *h2WebSocket) finishEvents(err error) {
	w.finish(err)
	w.c.mu.Lock()
	w.appExited = false // the handler still gets websocket.disconnect
	if w.status != 200 {
		w.disconnectLocked(websocket.CloseAbnormal, "") // refused (500) or denial reset
	}
	w.c.mu.Unlock()
}

// endEvents delivers websocket.disconnect, once and last, writes the access-log line
// and lets the stream be released. Loop only, c.mu not held.
func (w *h2WebSocket) endEvents() {
	c := w.c
	c.mu.Lock()
	if w.delivered {
		c.mu.Unlock()
		return
	}
	w.delivered = true
	d := *w.disc
	status := w.status
	c.mu.Unlock()
	if err := w.callHandler(&d); err != nil && !errors.Is(err, asgi.ErrDisconnected) {
		c.srv.log.Error("exception in ASGI application", "scope", "websocket", "path", w.rawPath, "err", err)
	}
	c.srv.inflight.Add(-1)
	w.stop()
	if c.srv.cfg.AccessLog {
		if status == 200 {
			status = 101 // the access log's "accepted"
		}
		c.srv.logWebSocketAccess(w.scope.Client, w.rawPath, status, w.started)
	}
	c.mu.Lock()
	w.appExited = true
	if w.order.State == asgi.WebSocketConnected && !w.gone {
		w.sendCloseLocked(websocket.CloseNormal, "") // the handler never closed
	}
	w.order.State = asgi.WebSocketClosed
	w.maybeReleaseLocked()
	c.mu.Unlock()
}

// SendNow is the asgi.WebSocketSender of event mode: msg is queued on the stream at
// once, never blocking. A websocket.send finds asgi.ErrBackpressure when the stream's
// or the connection's unsent output is above WriteHighWater. Safe for concurrent use.
func (w *h2WebSocket) SendNow(msg asgi.Message) error {
	frame, err := w.precompressEvent(msg)
	if err != nil {
		return err
	}
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := msg.(*asgi.WebSocketSend); ok && w.order.State == asgi.WebSocketConnected &&
		!c.gone && !w.gone && w.disc == nil && !w.closeSent &&
		(len(w.out) > c.srv.cfg.WriteHighWater || c.unsentLocked() > c.srv.cfg.WriteHighWater) {
		return asgi.ErrBackpressure
	}
	return w.sendLocked(msg, frame)
}

// precompressEvent is precompress for event mode: the send may run on the loop, so a
// message above CompressionSlice goes uncompressed (RFC 7692 allows it per message).
func (w *h2WebSocket) precompressEvent(msg asgi.Message) ([]byte, error) {
	if m, ok := msg.(*asgi.WebSocketSend); ok && len(m.Data) > w.cfg.CompressionSlice {
		if m.Text && !utf8.Valid(m.Data) {
			return nil, &asgi.ContractError{Msg: "Invalid UTF-8 in 'websocket.send' text message."}
		}
		return nil, nil
	}
	return w.precompress(msg)
}
