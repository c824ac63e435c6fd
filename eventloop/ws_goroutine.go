package eventloop

import (
	"context"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Goroutine mode: the app runs on an executor goroutine (run, in app.go) and reads
// websocket.connect, the peer's messages and websocket.disconnect from a bounded inbox
// that the loop fills (push); its receive blocks on the inbox, its send encodes into
// the connection's pending output and blocks above WriteHighWater.

// wsApp is the part of a wsSession that only goroutine mode needs: the app's scope and
// context, and the inbox its receive reads.
type wsApp struct {
	scope *asgi.WebSocketScope
	ctx   context.Context
	stop  context.CancelFunc
	// Guarded by c.mu:
	inbox      []asgi.Message
	inboxBytes int
	recvWait   chan struct{}
	wantWake   bool // the loop paused reading on a full inbox
}

// push delivers a message to the app's inbox. Messages that arrive after the server's
// close frame was queued are dropped: the app (or the server) has ended the
// conversation, and reading on without queueing lets the peer's close reply through
// at once even when the app does not read.
func (w *wsSession) push(m *asgi.WebSocketReceive) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.disc != nil || w.closeSent {
		return
	}
	w.inbox = append(w.inbox, m)
	w.inboxBytes += len(m.Data)
	w.wakeReceiverLocked()
}

func (w *wsSession) wakeReceiverLocked() {
	if w.wsApp != nil && w.recvWait != nil {
		close(w.recvWait)
		w.recvWait = nil
	}
}

// receive is the app's Receive: websocket.connect first, then messages; after the
// connection ended, websocket.disconnect on every call. Messages queued before the
// server's close frame are still delivered, later ones are not (see push).
func (w *wsSession) receive(ctx context.Context) (asgi.Message, error) {
	c := w.c
	c.mu.Lock()
	for {
		if m, ok := w.popLocked(); ok {
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
			return w.receiveCancelled(ctx)
		}
		c.mu.Lock()
	}
}

// receiveCancelled prefers websocket.disconnect over the context's error: the context
// is cancelled when the connection closes, at the same time as the disconnect.
func (w *wsSession) receiveCancelled(ctx context.Context) (asgi.Message, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.disc != nil && len(w.inbox) == 0 {
		d := *w.disc
		return &d, nil
	}
	return nil, ctx.Err()
}

// popLocked takes the oldest inbox message and resumes a reader paused on a full
// inbox. c.mu must be held.
func (w *wsSession) popLocked() (asgi.Message, bool) {
	if len(w.inbox) == 0 {
		return nil, false
	}
	m := w.inbox[0]
	w.inbox[0] = nil
	w.inbox = w.inbox[1:]
	if len(w.inbox) == 0 {
		w.inbox = w.inbox[:0:0] // let the backing array go
	}
	if r, ok := m.(*asgi.WebSocketReceive); ok {
		w.inboxBytes -= len(r.Data)
	}
	if w.wantWake {
		w.wantWake = false
		w.c.wake()
	}
	return m, true
}

// send is the app's Send. Messages are encoded into the pending output under c.mu;
// compression runs before the lock. It blocks while too much output is unsent.
func (w *wsSession) send(ctx context.Context, msg asgi.Message) error {
	frame, err := w.precompress(msg, false)
	if err != nil {
		return err
	}
	c := w.c
	c.mu.Lock()
	err = w.sendLocked(msg, frame)
	if err == nil {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitWritable(ctx)
}
