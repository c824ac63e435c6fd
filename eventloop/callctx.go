package eventloop

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// callContext is the context.Context of one app call on a stream, embedded in the
// stream so that a request costs no context allocations (context.WithCancel and
// context.WithValue cost three per call). It has no deadline and no values but the
// call's asgi.Detacher, if offered; it is cancelled when the client goes away or the
// call ends (cancel), and stays cancelled: a stream whose call ran with it is never
// recycled, so an app that keeps the context keeps a cancelled one.
//
// It implements AfterFunc, the method the context package looks for on a parent, so
// that contexts derived from it (context.WithCancel, context.AfterFunc) are cancelled
// with it without a goroutine watching each. Safe for concurrent use.
type callContext struct {
	detacher asgi.Detacher // set before the call starts, then read-only
	mu       sync.Mutex
	done     chan struct{} // made by the first Done; closedChan when cancelled before
	err      error         // context.Canceled once cancelled
	after    []*afterCall  // registered by AfterFunc, run by cancel
}

// afterCall is one AfterFunc registration; f is cleared when it is stopped or run,
// and a stopped one leaves the list at once.
type afterCall struct{ f func() }

// closedChan is the Done channel of a context cancelled before anyone asked for it.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

func (c *callContext) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *callContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
	}
	return c.done
}

func (c *callContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callContext) Value(key any) any {
	if _, ok := key.(asgi.DetachKey); ok && c.detacher != nil {
		return c.detacher
	}
	return nil
}

func (c *callContext) String() string { return "eventloop.callContext" }

// AfterFunc arranges for f to run once the context is cancelled (at once, on a new
// goroutine, if it already is); the returned stop reports whether it prevented f from
// running. As context.AfterFunc, which uses it.
func (c *callContext) AfterFunc(f func()) (stop func() bool) {
	a := &afterCall{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if a.f == nil {
			return false
		}
		a.f = nil
		// Dropped at once: a long call that derives and cancels many contexts (one
		// per chunk, say) must not pile up their registrations.
		if i := slices.Index(c.after, a); i >= 0 {
			last := len(c.after) - 1
			c.after[i], c.after[last] = c.after[last], nil
			c.after = c.after[:last]
		}
		return true
	}
}

// cancel ends the context (context.Canceled) and runs the AfterFunc functions not
// stopped; later calls do nothing.
func (c *callContext) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	if c.done == nil {
		c.done = closedChan
	} else {
		close(c.done)
	}
	var run []func()
	for _, a := range c.after { // stopped ones were dropped from the list
		run = append(run, a.f)
		a.f = nil
	}
	c.after = nil
	c.mu.Unlock()
	for _, f := range run {
		f()
	}
}
