package eventloop

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/h2"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// runInline runs the app on the loop goroutine. Loop only.
func (st *h1Stream) runInline() {
	st.inline = true
	st.ctx = context.Background()
	st.c.seedPending()
	st.finish(st.call())
	if st.isFinished() {
		st.h.responseDone(st.c, st)
	}
}

// run runs the app on an executor goroutine.
func (st *h1Stream) run() {
	defer st.c.srv.inflight.Add(-1)
	defer st.stop()
	st.finish(st.call())
	st.c.mu.Lock()
	st.c.scheduleFlushLocked()
	st.c.mu.Unlock()
}

// call runs the app, turning a panic into an error.
func (st *h1Stream) call() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return st.c.srv.app.ServeASGI(st.ctx, st.scope, st.receive, st.send)
}

// finish is HTTP/1.1's failure policy: an app that failed or returned before
// completing its response gets a 500 if nothing was sent yet, otherwise the
// connection is aborted (the client sees a truncated response).
func (st *h1Stream) finish(err error) {
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	complete := st.order.State == asgi.HTTPResponseComplete
	if complete && err == nil {
		st.finished = true
		return
	}
	if st.gone {
		st.finished = true
		return
	}
	if err == nil {
		err = errors.New("ASGI callable returned without completing response.")
	}
	if complete {
		// The response went out whole; only log the app's error.
		c.srv.log.Error("exception in ASGI application after the response completed", "path", st.scope.Path, "err", err)
		st.finished = true
		return
	}
	c.srv.log.Error("exception in ASGI application", "method", st.scope.Method, "path", st.scope.Path, "err", err)
	if !st.resp.HeadWritten() {
		st.status = 500
		st.forceClose = true
		c.pending = h1.AppendError(c.pending, 500, "Internal Server Error")
	} else {
		st.abort = true
	}
	st.finished = true
}

// accessLog writes one line per request, in uvicorn's shape. Loop only.
func (st *h1Stream) accessLog() {
	if !st.c.srv.cfg.AccessLog {
		return
	}
	client, _ := st.c.addrs()
	q := ""
	if len(st.scope.QueryString) > 0 {
		q = "?" + string(st.scope.QueryString)
	}
	st.c.mu.Lock()
	status := st.status
	cut := st.abort || st.gone && st.order.State != asgi.HTTPResponseComplete
	st.c.mu.Unlock()
	line := fmt.Sprintf("%s:%d - \"%s %s%s HTTP/%s\" %d", client.Host, client.Port,
		st.scope.Method, st.scope.RawPath, q, st.scope.HTTPVersion, status)
	if cut {
		line += " (response incomplete: client disconnected or aborted)"
	}
	st.c.srv.log.Info(line, "duration", time.Since(st.started).Round(time.Microsecond))
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

func (w *wsSession) run() {
	defer w.release()
	defer w.stop()
	err := w.call()
	w.finish(err)
	w.accessLog()
}

func (w *wsSession) call() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return w.c.srv.app.ServeASGI(w.ctx, w.scope, w.receive, w.send)
}

// finish is the WebSocket failure policy: an app that fails or returns before
// answering the handshake gets a 500; an app that fails on an open connection closes
// it with 1011, and one that returns closes it with 1000; a denial response cut short
// aborts the connection.
func (w *wsSession) finish(err error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil && !errors.Is(err, asgi.ErrDisconnected) && !errors.Is(err, context.Canceled) {
		c.srv.log.Error("exception in ASGI application", "scope", "websocket", "path", w.rawPath, "err", err)
	}
	switch w.order.State {
	case asgi.WebSocketHandshake:
		if err == nil {
			c.srv.log.Error("ASGI callable returned without sending handshake.", "path", w.rawPath)
		}
		w.status, w.endHTTP = 500, true
		c.pending = websocket.AppendHandshakeError(c.pending, &websocket.HandshakeError{Status: 500, Reason: "Internal Server Error"})
	case asgi.WebSocketConnected:
		code := websocket.CloseNormal
		if err != nil {
			code = websocket.CloseInternalError
		}
		if !w.closeSent && w.disc == nil {
			w.closeSent = true
			c.pending = websocket.AppendClose(c.pending, code, "")
		}
	case asgi.WebSocketDenying:
		w.abort = true
	}
	w.order.State = asgi.WebSocketClosed
	c.scheduleFlushLocked()
}

// accessLog writes one line per WebSocket, in uvicorn's shape.
func (w *wsSession) accessLog() {
	if !w.c.srv.cfg.AccessLog {
		return
	}
	c := w.c
	c.mu.Lock()
	status := w.status
	c.mu.Unlock()
	verdict := "[accepted]"
	if status != 101 {
		verdict = fmt.Sprintf("%d [rejected]", status)
	}
	cl, _ := c.addrs()
	host, port := "", 0
	if cl != nil {
		host, port = cl.Host, cl.Port
	}
	c.srv.log.Info(fmt.Sprintf("%s:%d - \"WebSocket %s\" %s", host, port, w.rawPath, verdict),
		"duration", time.Duration(time.Now().UnixNano()-w.started).Round(time.Microsecond))
}

func (w *wsSession) callHandler(msg asgi.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return w.handler.HandleWebSocket(msg, w)
}
