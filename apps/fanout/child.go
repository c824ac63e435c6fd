package fanout

import (
	"context"
	"errors"
	"fmt"

	"github.com/asgo-dev/asgo/lifespan"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// child is one member's lifespan call, driven by lifespan.Call without timeouts.
type child struct {
	name string
	call *lifespan.Call
}

// run starts m's lifespan call with a scope sharing scope.State.
func run(ctx context.Context, scope *asgi.LifespanScope, m Member) *child {
	sub := &asgi.LifespanScope{ASGI: scope.ASGI, State: scope.State}
	return &child{name: m.Name, call: lifespan.Start(ctx, m.App, sub, nil)}
}

// startup sends lifespan.startup and waits for the member's reply or ctx.
func (c *child) startup(ctx context.Context) (lifespan.Reply, error) {
	r, err := c.call.Startup(ctx, 0)
	return settled(ctx, r, err)
}

// shutdown sends lifespan.shutdown and waits for the member's reply or ctx. A member
// that already returned answers at once with its exit.
func (c *child) shutdown(ctx context.Context) (lifespan.Reply, error) {
	r, err := c.call.Shutdown(ctx, 0)
	r, err = settled(ctx, r, err)
	var pe *lifespan.PanicError
	if errors.As(r.Err, &pe) {
		r.Err = fmt.Errorf("fanout: app panicked: %v", pe.Value)
	}
	return r, err
}

func (c *child) cancel() { c.call.Cancel() }

// settled gives ctx's end precedence over a Reply that came with it: the member's
// context derives from ctx, so a member that returned as ctx ended most likely
// returned because of it, and Lifespan must then end with ctx's error.
func settled(ctx context.Context, r lifespan.Reply, err error) (lifespan.Reply, error) {
	if err == nil && ctx.Err() != nil {
		return lifespan.Reply{}, ctx.Err()
	}
	return r, err
}
