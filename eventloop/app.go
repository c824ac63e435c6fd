package eventloop

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/h2"
	"github.com/asgo-dev/asgo/protocol/websocket"
)

// Running an app: the one call into the app (callApp, or callHandler for event-mode
// WebSocket handlers) with its panic recovery, each protocol's failure policy (finish:
// what the client gets when the app fails or returns early), and the access-log line.

// callApp runs the server's app for one scope, turning a panic into an error. Every
// HTTP request, HTTP/2 stream and goroutine-mode WebSocket calls its app here.
func (s *Server) callApp(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) (err error) {
	defer recoverApp(&err)
	return s.app.ServeASGI(ctx, scope, receive, send)
}

// recoverApp, deferred around a call into the app, turns a panic into *err (with the
// stack), so that the protocol's failure policy handles it like a returned error.
func recoverApp(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
	}
}

// errIncomplete is the error of an HTTP app that returned before completing its
// response, in uvicorn's wording.
//
//lint:ignore ST1005 uvicorn's message, punctuation included
var errIncomplete = errors.New("ASGI callable returned without completing response.")

// logHTTPAppError logs an HTTP app's failure; complete tells that its response had
// already gone out whole.
func (s *Server) logHTTPAppError(scope *asgi.HTTPScope, complete bool, err error) {
	if complete {
		s.log.Error("exception in ASGI application after the response completed", "path", scope.Path, "err", err)
		return
	}
	s.log.Error("exception in ASGI application", "method", scope.Method, "path", scope.Path, "err", err)
}

// runInline runs the app on the loop goroutine. Loop only.
func (st *h1Stream) runInline() {
	st.inline = true
	st.ctx = context.Background()
	st.resp.UseBuffer(st.c.loop.takeHeadBuf())
	st.c.seedPending()
	receive, send := st.calls()
	st.finish(st.c.srv.callApp(st.ctx, st.scope, receive, send))
	if st.isFinished() {
		st.h.responseDone(st.c, st)
	}
	st.recycle()
}

// calls returns the app's receive and send for this stream: the ones bound once to a
// stream that is recycled, else new method values.
func (st *h1Stream) calls() (asgi.Receive, asgi.Send) {
	if st.sendFn != nil {
		return st.receiveFn, st.sendFn
	}
	return st.receive, st.send
}

// Spare response-head buffers a loop keeps: enough for the responses of as many
// requests run off the loop at once as a busy loop has connections answering (each
// holds its head until its response is complete); larger heads are left to the
// collector, so the spares hold at most 256 KiB.
const (
	maxSpareHeads = 256
	maxSpareHead  = 1 << 10
)

// takeHeadBuf returns a spare response-head buffer, or nil. Loop only.
func (l *loop) takeHeadBuf() []byte {
	n := len(l.headBufs)
	if n == 0 {
		return nil
	}
	buf := l.headBufs[n-1]
	l.headBufs[n-1] = nil
	l.headBufs = l.headBufs[:n-1]
	return buf
}

// returnHeadBuf gives the response's head buffer back to the loop once the response is
// complete: every later send of the app (one that kept send past its return, or one
// still running off the loop) fails the order check before it could touch the buffer.
// Loop only.
func (st *h1Stream) returnHeadBuf() {
	c := st.c
	c.mu.Lock()
	if st.order.State != asgi.HTTPResponseComplete {
		c.mu.Unlock()
		return
	}
	buf := st.resp.TakeBuffer()
	c.mu.Unlock()
	if l := c.loop; cap(buf) > 0 && cap(buf) <= maxSpareHead && len(l.headBufs) < maxSpareHeads {
		l.headBufs = append(l.headBufs, buf)
	}
}

// run runs the app on an executor goroutine.
func (st *h1Stream) run() {
	receive, send := st.calls()
	st.end(st.c.srv.callApp(st.ctx, st.scope, receive, send))
	if st.poolBody {
		// The app returned and keeps no chunk (asgi.BodyRecycler); Send kept none.
		st.c.mu.Lock()
		st.body.recycle()
		st.c.mu.Unlock()
	}
}

// Detach implements asgi.Detacher: the call ends now, its goroutine runs on.
func (st *h1Stream) Detach(err error) { st.end(err) }

// end ends the app call once, at the app's return or its Detach, whichever is first.
func (st *h1Stream) end(err error) {
	if st.ended.Swap(true) {
		return
	}
	st.finish(err)
	st.c.mu.Lock()
	st.c.scheduleFlushLocked()
	st.c.mu.Unlock()
	st.callCtx.cancel()
	st.c.srv.inflight.Add(-1)
}

// finish is HTTP/1.1's failure policy: an app that failed or returned before
// completing its response gets a 500 if nothing was sent yet, otherwise the
// connection is aborted (the client sees a truncated response).
func (st *h1Stream) finish(err error) {
	c := st.c
	c.mu.Lock()
	defer c.mu.Unlock()
	defer st.countDoneLocked() // after the status is settled, under c.mu
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
		err = errIncomplete
	}
	c.srv.logHTTPAppError(st.scope, complete, err)
	if complete || st.resp.WireComplete() {
		st.finished = true // the response went out whole; only the app's error is logged
		return
	}
	if !st.resp.HeadWritten() {
		st.status = 500
		st.forceClose = true
		c.pending = h1.AppendError(c.pending, 500, "Internal Server Error")
	} else {
		st.abort = true
	}
	st.finished = true
}

// accessLog writes the request's access-log line. Loop only.
func (st *h1Stream) accessLog() {
	if !st.c.srv.cfg.AccessLog {
		return
	}
	client, _ := st.c.addrs()
	st.c.mu.Lock()
	status, sent := st.status, st.bodyBytes
	cut := st.abort || st.gone && st.order.State != asgi.HTTPResponseComplete
	st.c.mu.Unlock()
	st.c.srv.logHTTPAccess(client, st.scope, status, sent, cut, time.Unix(0, st.started))
}

// run runs the app on an executor goroutine.
func (st *h2Stream) run() {
	st.end(st.c.srv.callApp(st.ctx, st.scope, st.receive, st.send))
}

// Detach implements asgi.Detacher: the call ends now, its goroutine runs on.
func (st *h2Stream) Detach(err error) { st.end(err) }

// end ends the app call once, at the app's return or its Detach, whichever is first.
func (st *h2Stream) end(err error) {
	if st.ended.Swap(true) {
		return
	}
	st.finish(err)
	st.callCtx.cancel()
	st.c.srv.inflight.Add(-1)
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
		c.srv.logHTTPAppError(st.scope, true, err)
	case !complete && !st.gone && !c.gone:
		if err == nil {
			err = errIncomplete
		}
		c.srv.logHTTPAppError(st.scope, false, err)
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
	st.countDoneLocked()
	c.mu.Unlock()
	st.accessLog()
}

// accessLog writes the stream's access-log line.
func (st *h2Stream) accessLog() {
	if !st.c.srv.cfg.AccessLog {
		return
	}
	st.c.mu.Lock()
	status, sent := st.status, st.sentBytes
	st.c.mu.Unlock()
	st.c.srv.logHTTPAccess(st.scope.Client, st.scope, status, sent, false, st.started)
}

// run runs the app on an executor goroutine.
func (w *wsSession) run() {
	defer w.release()
	defer w.stop()
	w.finish(w.c.srv.callApp(w.ctx, w.scope, w.receive, w.send))
	w.accessLog()
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

// accessLog writes the WebSocket's access-log line: accepted, or the HTTP status that
// refused it.
func (w *wsSession) accessLog() {
	c := w.c
	if !c.srv.cfg.AccessLog {
		return
	}
	c.mu.Lock()
	status := w.status
	c.mu.Unlock()
	client, _ := c.addrs()
	c.srv.logWebSocketAccess(client, w.rawPath, int(status), time.Unix(0, w.started))
}

// callHandler calls an event-mode WebSocket handler with msg, turning a panic into an
// error. Loop only.
func (w *wsSession) callHandler(msg asgi.Message) (err error) {
	defer recoverApp(&err)
	return w.handler.HandleWebSocket(msg, w)
}

// logHTTPAccessDefault writes an HTTP request's access-log line in the default shape,
// through the Logger; cut notes a response that did not go out whole.
func (s *Server) logHTTPAccessDefault(client *asgi.Addr, scope *asgi.HTTPScope, status int, cut bool, started time.Time) {
	q := ""
	if len(scope.QueryString) > 0 {
		q = "?" + string(scope.QueryString)
	}
	result := strconv.Itoa(status)
	if cut {
		result += " (response incomplete: client disconnected or aborted)"
	}
	s.logAccess(client, scope.Method+" "+string(scope.RawPath)+q+" HTTP/"+scope.HTTPVersion, result, started)
}

// logAccess writes one access-log line, in uvicorn's shape:
//
//	127.0.0.1:50312 - "GET /items?page=2 HTTP/1.1" 200
//	127.0.0.1:50314 - "WebSocket /chat" [accepted]
//
// request stands between the quotes, result after them. Callers check
// Config.AccessLog first, so that a server without an access log builds no line.
func (s *Server) logAccess(client *asgi.Addr, request, result string, started time.Time) {
	host, port := "", 0
	if client != nil {
		host, port = client.Host, client.Port
	}
	s.log.Info(fmt.Sprintf("%s:%d - \"%s\" %s", host, port, request, result),
		"duration", time.Since(started).Round(time.Microsecond))
}
