package lifespan

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Reply is how a phase of a Call ended: the app's reply in Msg (the phase's complete
// or failed message), or else Err: a *asgi.ContractError for a message the phase does
// not accept, the app's error, a *PanicError, or ErrExited for an app that returned nil.
type Reply struct {
	Msg asgi.Message
	Err error
}

// PanicError is the Err of the Reply of a phase that the app ended by panicking.
type PanicError struct {
	Value any    // what the app panicked with
	Stack []byte // the app goroutine's stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("lifespan: app panicked: %v", e.Value) }

// Call drives one app's lifespan call: the app runs on its own goroutine with a
// Receive that yields lifespan.startup and later lifespan.shutdown, and a Send that
// accepts only the reply the current phase expects (checked by asgi.LifespanOrder);
// any other message is refused with the contract error, which ends the phase. Call
// has no modes, default timeouts or logging: Manager adds those for the served app, and
// composite apps (apps/fanout) drive one Call per member.
//
// Concurrency: Startup, Shutdown and Cancel are called from one goroutine (the
// driver's): Startup at most once, then Shutdown at most once. The app's goroutine
// talks to the Call through its receive and send, which are synchronised internally.
type Call struct {
	inbox  chan asgi.Message // driver-to-app messages; at most one per phase
	result chan Reply        // one Reply per phase; capacity 1, so never blocks
	ctx    context.Context   // the app's context
	cancel context.CancelFunc
	onExit func(err error, endedPhase bool)

	// Guarded by mu:
	mu      sync.Mutex
	order   asgi.LifespanOrder // idle once the current phase has its Reply
	exited  bool
	exitErr error
}

// Start calls app with scope on a new goroutine, with a context derived from ctx
// that Cancel cancels. The startup phase is armed before the app runs, so a reply the
// app sends before it received lifespan.startup is accepted. onExit, if not nil, runs
// on the app's goroutine when the app has returned or panicked, with its error (nil,
// the app's error or a *PanicError) and whether that ended a phase being waited for.
func Start(ctx context.Context, app asgi.App, scope *asgi.LifespanScope, onExit func(err error, endedPhase bool)) *Call {
	cctx, cancel := context.WithCancel(ctx)
	c := &Call{
		inbox:  make(chan asgi.Message, 2),
		result: make(chan Reply, 1),
		ctx:    cctx,
		cancel: cancel,
		onExit: onExit,
		order:  asgi.LifespanOrder{State: asgi.LifespanStartingUp},
	}
	go c.serve(app, scope)
	return c
}

// Startup sends lifespan.startup and waits for the phase's Reply. If the Reply does
// not come within timeout (none if zero or negative) it returns an error wrapping
// ErrTimeout; if ctx ends first it returns ctx's error. A Reply that arrives while it
// gives up still wins.
func (c *Call) Startup(ctx context.Context, timeout time.Duration) (Reply, error) {
	return c.await(ctx, &asgi.LifespanStartup{}, timeout)
}

// Shutdown sends lifespan.shutdown and waits for the phase's Reply, as Startup does.
// An app that already returned answers at once with its exit (Err nil for a clean
// return is reported as ErrExited).
func (c *Call) Shutdown(ctx context.Context, timeout time.Duration) (Reply, error) {
	c.mu.Lock()
	if c.exited {
		err := exitErr(c.exitErr)
		c.mu.Unlock()
		return Reply{Err: err}, nil
	}
	c.order.State = asgi.LifespanShuttingDown
	c.mu.Unlock()
	return c.await(ctx, &asgi.LifespanShutdown{}, timeout)
}

// Cancel cancels the app's context. It may be called more than once.
func (c *Call) Cancel() { c.cancel() }

// await sends msg for the armed phase and waits for the phase's Reply, the timeout or
// ctx.
func (c *Call) await(ctx context.Context, msg asgi.Message, timeout time.Duration) (Reply, error) {
	c.inbox <- msg
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case r := <-c.result:
		return r, nil
	case <-expired:
		return c.abandon(fmt.Errorf("%w: no reply to '%s' within %v", ErrTimeout, msg.Type(), timeout))
	case <-ctx.Done():
		return c.abandon(ctx.Err())
	}
}

// abandon stops waiting for the current phase. If the phase's Reply arrived in the
// meantime it wins over err.
func (c *Call) abandon(err error) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.order.Waiting() {
		return <-c.result, nil // settled: the Reply is buffered
	}
	c.order.State = asgi.LifespanIdle
	return Reply{}, err
}

func exitErr(err error) error {
	if err == nil {
		return ErrExited
	}
	return err
}

// serve runs the app's lifespan call. It is the app goroutine.
func (c *Call) serve(app asgi.App, scope *asgi.LifespanScope) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
		c.exit(err)
	}()
	err = app.ServeASGI(c.ctx, scope, c.receive, c.send)
}

// exit records the app's return and ends the current phase with it.
func (c *Call) exit(err error) {
	c.mu.Lock()
	c.exited, c.exitErr = true, err
	ended := c.settleLocked(Reply{Err: exitErr(err)})
	c.mu.Unlock()
	if c.onExit != nil {
		c.onExit(err, ended)
	}
}

// settleLocked delivers r as the end of the current phase unless it already has one,
// and reports whether it did.
func (c *Call) settleLocked(r Reply) bool {
	if !c.order.Waiting() {
		return false
	}
	c.order.State = asgi.LifespanIdle
	c.result <- r
	return true
}

// receive is the app's Receive.
func (c *Call) receive(ctx context.Context) (asgi.Message, error) {
	select {
	case msg := <-c.inbox:
		return msg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, c.ctx.Err()
	}
}

// send is the app's Send: it accepts the one reply the current phase expects. Any
// other message is refused and ends the phase with the contract error.
func (c *Call) send(_ context.Context, msg asgi.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.order.Check(msg); err != nil {
		c.settleLocked(Reply{Err: err})
		return err
	}
	c.result <- Reply{Msg: msg} // the reply ended the phase; result has room for it
	return nil
}
