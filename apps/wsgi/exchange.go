package wsgi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// detachWait bounds how long the waiting goroutine waits for a worker's send or receive
// in progress to return after the request context was cancelled.
const detachWait = time.Second

// errExpired is posted on exchange.done by the timeout timer.
var errExpired = errors.New("wsgi: timer expired")

// exchange is one request travelling from the goroutine that called ServeASGI (the
// waiter) to a worker and back; or, when the server offers an asgi.Detacher, served on
// the calling goroutine itself (runHere), the timer ending the server's call through
// the Detacher while the handler runs on.
//
// The worker calls send and receive only while holding gate, and only while detached
// is false. The waiter detaches (on timeout or client disconnect) by setting detached,
// then cancelling ctx, which unblocks a send or receive in progress, then taking gate;
// after that the worker can no longer touch the server's stream, so ServeASGI may
// return.
//
// Exchanges are pooled: one that ended normally (the worker posted its result and its
// timer never fired) is reused with its channels, timer and buffers. The handler only
// holds the request's call, which stops working when the request ends, so nothing it
// keeps reaches a later request.
type exchange struct {
	app     *App
	scope   *asgi.HTTPScope
	receive asgi.Receive
	send    asgi.Send
	ctx     *requestContext // cancelled on detach and when the request ends; in call
	done    chan error      // capacity 2: the worker's result and the timer's errExpired
	gate    chan struct{}   // capacity 1: held around every send and receive
	timer   *time.Timer     // the handler's time limit, posting errExpired; reused
	// Set by the waiter, read by the worker under gate:
	detached atomic.Bool
	started  atomic.Bool // http.response.start was handed to send
	// runHere only: the server's Detacher (written before phase is set to phaseHere, so
	// read only after phase was) and which of the handler and the timer ended first.
	detacher asgi.Detacher
	phase    atomic.Int32
	// Owned by the worker goroutine:
	call     *call // the handler's view of this request
	resp     response
	startMsg asgi.HTTPResponseStart // reused messages: Send does not retain them
	bodyMsg  asgi.HTTPResponseBody
	clBuf    [20]byte
	reusable bool // set by the worker before it posts: it is done and its timer is stopped
	// The buffers of the response headers, kept with the pooled exchange (Send does not
	// retain them) unless larger than maxKeptHeaderBytes or maxKeptHeaderFields:
	hbuf []byte
	hdrs asgi.Headers
}

// exchange.phase values.
const (
	phasePool    = iota // served by a worker (Run); the waiter handles the timer
	phaseHere           // served on the caller (runHere), the handler running
	phaseDone           // runHere: the handler returned first
	phaseExpired        // runHere: the timer fired first
)

// The largest header buffers a pooled exchange keeps for its next request.
const (
	maxKeptHeaderBytes  = 4 << 10
	maxKeptHeaderFields = 32
)

var exchanges = sync.Pool{New: func() any {
	x := &exchange{done: make(chan error, 2), gate: make(chan struct{}, 1)}
	x.timer = time.AfterFunc(time.Hour, x.expired)
	x.timer.Stop()
	return x
}}

func newExchange(ctx context.Context, a *App, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) *exchange {
	x := exchanges.Get().(*exchange)
	x.app, x.scope, x.receive, x.send = a, scope, receive, send
	// The waiter watches ctx and cancels x.ctx itself (detach, release), so x.ctx need
	// not be registered with ctx: it carries only ctx's values. It lives in the call, so
	// one allocation serves both.
	x.call = newCall(x)
	x.call.ctx.parent = ctx
	x.ctx = &x.call.ctx
	return x
}

// release returns x to the pool when nothing can touch it any more: the waiter got the
// worker's result and the timer did not fire. Otherwise x is left to the collector.
func (x *exchange) release(result bool) {
	x.ctx.cancel()
	if !result || !x.reusable {
		return
	}
	*x = exchange{done: x.done, gate: x.gate, timer: x.timer, hbuf: x.hbuf[:0], hdrs: x.hdrs[:0]}
	exchanges.Put(x)
}

// call is what the handler holds of one request: its start_response, write and
// wsgi.input. It stops working when the request ends (ErrAborted), so a handler that
// keeps any of them cannot reach the pooled exchange's next request.
type call struct {
	x       *exchange
	ended   atomic.Bool
	input   Input
	env     environ        // what the handler's Environ reads
	ctx     requestContext // the exchange's ctx for this request
	startFn StartResponse  // c.startResponse and c.write as values, made once
	writeFn Write
}

// requestContext is the context of one request's handler (asgo.context) and of its
// sends and receives: it has the values of the server's context but not its deadline;
// the waiter cancels it on detach and when the request ends, and a request served by
// runHere also ends with the server's context (the client left). It lives in the
// request's call, so a handler that keeps it keeps a cancelled context, never a later
// request's.
type requestContext struct {
	parent context.Context
	// follow, when set (runHere), is the server's context: this one ends with it too,
	// watched only once the handler asks for Done.
	follow   context.Context
	unfollow func() bool // stops the watch on follow (set by Done)
	mu       sync.Mutex
	done     chan struct{} // made by the first Done; closedChan when cancelled before
	err      error
}

var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{}) // cancel sets closedChan when it comes first
		if c.follow != nil {
			c.unfollow = context.AfterFunc(c.follow, c.cancel)
		}
	}
	return c.done
}

func (c *requestContext) Err() error {
	if c.follow != nil && c.follow.Err() != nil {
		c.cancel()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *requestContext) Value(key any) any { return c.parent.Value(key) }

func (c *requestContext) String() string { return "wsgi.requestContext" }

// cancel ends the context (context.Canceled); later calls do nothing.
func (c *requestContext) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = context.Canceled
	if c.unfollow != nil {
		c.unfollow() // ended first: the server's context ending later has nothing to do
	}
	if c.done == nil {
		c.done = closedChan
		return
	}
	close(c.done)
}

func newCall(x *exchange) *call {
	c := &call{x: x}
	c.input = Input{c: c, more: true}
	c.startFn, c.writeFn = c.startResponse, c.write
	return c
}

func (c *call) startResponse(status string, headers [][2]string, excInfo error) (Write, error) {
	if c.ended.Load() {
		return nil, ErrAborted
	}
	return c.x.startResponse(status, headers, excInfo)
}

func (c *call) write(data []byte) error {
	if c.ended.Load() {
		return ErrAborted
	}
	return c.x.write(data)
}

// wait runs on the ServeASGI goroutine until the worker is done, the handler timed
// out, or the client went away.
func (x *exchange) wait(ctx context.Context) error {
	select {
	case err := <-x.done:
		if err == errExpired {
			err = x.expire(ctx)
			x.release(false)
			return err
		}
		x.release(true)
		return err
	case <-ctx.Done():
		x.detach()
		x.release(false)
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
	return x.answerTimeout(ctx, started)
}

// answerTimeout logs a handler over time, its worker detached, and ends its response:
// 504 when nothing was sent, otherwise ErrTimeout, which makes the server abort it.
func (x *exchange) answerTimeout(ctx context.Context, started bool) error {
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
	x.ctx.cancel()
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
// Posting the result is its last touch of x.
func (x *exchange) Run() {
	if x.ctx.Err() != nil {
		x.post(nil)
		return
	}
	t := x.app.cfg.Timeout
	if t > 0 {
		x.timer.Reset(t)
	}
	err := x.serve()
	x.reusable = t <= 0 || x.timer.Stop()
	x.post(err)
}

// expired is the timer's callback.
func (x *exchange) expired() {
	if x.phase.Load() == phasePool {
		x.post(errExpired)
		return
	}
	x.expireHere()
}

// runHere serves the request on the calling goroutine; d ends the server's call early
// when the timer fires first (expireHere). It returns once the handler returned.
func (x *exchange) runHere(d asgi.Detacher) error {
	x.detacher = d
	x.ctx.follow = x.ctx.parent
	x.phase.Store(phaseHere)
	t := x.app.cfg.Timeout
	if t > 0 {
		x.timer.Reset(t)
	}
	err := x.serve()
	if x.phase.CompareAndSwap(phaseHere, phaseDone) {
		x.reusable = t <= 0 || x.timer.Stop()
		return err
	}
	<-x.done // the timer ended the call: wait until it no longer touches the stream
	return nil
}

// expireHere is the timer of a request served by runHere whose handler is over time:
// it cuts the handler off the stream, ends the response (answerTimeout) and ends the
// server's call with its outcome.
func (x *exchange) expireHere() {
	if !x.phase.CompareAndSwap(phaseHere, phaseExpired) {
		return // the handler returned first
	}
	x.detacher.Detach(x.answerTimeout(x.ctx.parent, x.detach()))
	x.post(nil)
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
