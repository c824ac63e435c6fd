package fanout

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// errExited reports a member that returned before answering the phase's message.
var errExited = errors.New("fanout: app returned before replying")

// event is how a phase ended for one member: a valid reply in msg, or err (a contract
// error, the member's own error or panic, or errExited).
type event struct {
	msg asgi.Message
	err error
}

// child drives one member's lifespan call on its own goroutine.
type child struct {
	name   string
	inbox  chan asgi.Message // server-to-app messages; at most one per phase
	result chan event        // one event per phase; capacity 1, so never blocks
	ctx    context.Context
	cancel context.CancelFunc

	// Guarded by mu:
	mu      sync.Mutex
	order   asgi.LifespanOrder // idle once the phase has its event
	exited  bool
	exitErr error
}

// run starts m's lifespan call with a scope sharing scope.State.
func run(ctx context.Context, scope *asgi.LifespanScope, m Member) *child {
	cctx, cancel := context.WithCancel(ctx)
	c := &child{name: m.Name, inbox: make(chan asgi.Message, 2), result: make(chan event, 1), ctx: cctx, cancel: cancel,
		order: asgi.LifespanOrder{State: asgi.LifespanStartingUp}} // armed before the app runs, so a reply sent at once is accepted
	sub := &asgi.LifespanScope{ASGI: scope.ASGI, State: scope.State}
	go c.serve(m.App, sub)
	return c
}

func (c *child) serve(app asgi.App, scope *asgi.LifespanScope) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fanout: app panicked: %v", r)
		}
		c.exit(err)
	}()
	err = app.ServeASGI(c.ctx, scope, c.receive, c.send)
}

func (c *child) exit(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exited, c.exitErr = true, err
	if err == nil {
		err = errExited
	}
	c.settleLocked(event{err: err})
}

// settleLocked delivers ev as the end of the current phase unless it already has one.
func (c *child) settleLocked(ev event) {
	if c.order.Waiting() {
		c.order.State = asgi.LifespanIdle
		c.result <- ev
	}
}

// startup sends lifespan.startup (the phase was armed by run) and waits for its event.
func (c *child) startup(ctx context.Context) (event, error) {
	return c.await(ctx, &asgi.LifespanStartup{})
}

// shutdown sends lifespan.shutdown and waits for its event. A member that already
// returned answers at once with its exit error (nil for a clean return).
func (c *child) shutdown(ctx context.Context) (event, error) {
	c.mu.Lock()
	if c.exited {
		err := c.exitErr
		c.mu.Unlock()
		return event{err: err}, nil
	}
	c.order.State = asgi.LifespanShuttingDown
	c.mu.Unlock()
	return c.await(ctx, &asgi.LifespanShutdown{})
}

func (c *child) await(ctx context.Context, msg asgi.Message) (event, error) {
	c.inbox <- msg
	select {
	case ev := <-c.result:
		return ev, nil
	case <-ctx.Done():
		return event{}, ctx.Err()
	}
}

func (c *child) receive(ctx context.Context) (asgi.Message, error) {
	select {
	case m := <-c.inbox:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, c.ctx.Err()
	}
}

// send is the member's Send: it accepts the one reply the current phase expects. Any
// other message is refused and ends the phase with the contract error.
func (c *child) send(_ context.Context, msg asgi.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.order.Check(msg); err != nil {
		c.settleLocked(event{err: err})
		return err
	}
	c.result <- event{msg: msg} // the reply ended the phase; result has room for it
	return nil
}
