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
	return c.call.Startup(ctx, 0)
}

// shutdown sends lifespan.shutdown and waits for the member's reply or ctx. A member
// that already returned answers at once with its exit.
func (c *child) shutdown(ctx context.Context) (lifespan.Reply, error) {
	r, err := c.call.Shutdown(ctx, 0)
	var pe *lifespan.PanicError
	if errors.As(r.Err, &pe) {
		r.Err = fmt.Errorf("fanout: app panicked: %v", pe.Value)
	}
	return r, err
}

func (c *child) cancel() { c.call.Cancel() }
