package wsgi

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"asgo/apps/internal/httpx"
	"asgo/protocol/asgi"
)

// detachWait bounds how long the waiting goroutine waits for a worker's send or receive
// in progress to return after the request context was cancelled.
const detachWait = time.Second

// errExpired is posted on exchange.done by the timeout timer.
var errExpired = errors.New("wsgi: timer expired")

// exchange is one request travelling from the goroutine that called ServeASGI (the
// waiter) to a worker and back.
//
// The worker calls send and receive only while holding gate, and only while detached
// is false. The waiter detaches (on timeout or client disconnect) by setting detached,
// then cancelling ctx, which unblocks a send or receive in progress, then taking gate;
// after that the worker can no longer touch the server's stream, so ServeASGI may
// return.
type exchange struct {
	app     *App
	scope   *asgi.HTTPScope
	receive asgi.Receive
	send    asgi.Send
	ctx     context.Context // cancelled on detach and when the request ends
	cancel  context.CancelFunc
	done    chan error    // capacity 2: the worker's result and the timer's errExpired
	gate    chan struct{} // capacity 1: held around every send and receive
	// Set by the waiter, read by the worker under gate:
	detached atomic.Bool
	started  atomic.Bool // http.response.start was handed to send
	// Owned by the worker goroutine:
	resp     response
	startFn  StartResponse // x.startResponse and x.write as values, made once
	writeFn  Write
	input    Input
	startMsg asgi.HTTPResponseStart // reused messages: Send does not retain them
	bodyMsg  asgi.HTTPResponseBody
	clBuf    [20]byte
}

func newExchange(ctx context.Context, a *App, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) *exchange {
	x := &exchange{app: a, scope: scope, receive: receive, send: send,
		done: make(chan error, 2), gate: make(chan struct{}, 1)}
	x.ctx, x.cancel = context.WithCancel(ctx)
	x.startFn, x.writeFn = x.startResponse, x.write
	return x
}

// wait runs on the ServeASGI goroutine until the worker is done, the handler timed
// out, or the client went away.
func (x *exchange) wait(ctx context.Context) error {
	select {
	case err := <-x.done:
		if err == errExpired {
			return x.expire(ctx)
		}
		x.cancel()
		return err
	case <-ctx.Done():
		x.detach()
		return nil
	}
}

// expire reports a handler over time and ends its response: 504 when nothing was sent,
// otherwise ErrTimeout, which makes the server abort the response.
func (x *exchange) expire(ctx context.Context) error {
	started := x.detach()
	select {
	case err := <-x.done:
		if !errors.Is(err, ErrAborted) {
			return err // the worker finished as the timer fired: keep its outcome
		}
		// It stopped because detach refused its send: the timeout stands.
	default:
	}
	x.app.cfg.Logger.Error("wsgi: handler timed out", requestAttrs(x.scope,
		"timeout", x.app.cfg.Timeout, "response_started", started)...)
	if started {
		return ErrTimeout
	}
	return httpx.Text(ctx, x.send, 504, "Gateway Timeout\n")
}

// detach cuts the worker off the server's stream and reports whether the response had
// started. If a send does not return within detachWait of the cancellation, the
// response counts as started (the server will abort it).
func (x *exchange) detach() (started bool) {
	// Refuse new sends before cancelling: a handler woken by the cancellation must not
	// get its response out ahead of the waiter's 504.
	x.detached.Store(true)
	x.cancel()
	t := time.NewTimer(detachWait)
	defer t.Stop()
	select {
	case x.gate <- struct{}{}: // no send or receive is in progress any more
		<-x.gate
		return x.started.Load()
	case <-t.C:
		return true
	}
}

// Run is the worker side (Job): it serves the request unless the waiter already left.
func (x *exchange) Run() {
	if x.ctx.Err() != nil {
		x.post(nil)
		return
	}
	if t := x.app.cfg.Timeout; t > 0 {
		timer := time.AfterFunc(t, func() { x.post(errExpired) })
		defer timer.Stop()
	}
	x.post(x.serve())
}

func (x *exchange) post(err error) {
	select {
	case x.done <- err:
	default:
	}
}

// sendMsg hands msg to the server unless the waiter detached the worker.
func (x *exchange) sendMsg(msg asgi.Message) error {
	x.gate <- struct{}{}
	defer func() { <-x.gate }()
	if x.detached.Load() {
		return ErrAborted
	}
	if _, ok := msg.(*asgi.HTTPResponseStart); ok {
		x.started.Store(true)
	}
	return x.send(x.ctx, msg)
}

// receiveMsg asks the server for the next request message unless detached.
func (x *exchange) receiveMsg() (asgi.Message, error) {
	x.gate <- struct{}{}
	defer func() { <-x.gate }()
	if x.detached.Load() {
		return nil, ErrAborted
	}
	msg, err := x.receive(x.ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAborted, err)
	}
	return msg, nil
}

// offers reports whether the server announced extension ext in the scope.
func (x *exchange) offers(ext string) bool {
	_, ok := x.scope.Extensions[ext]
	return ok
}
