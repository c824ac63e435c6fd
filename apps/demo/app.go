package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asgo-dev/asgo/apps/fanout"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// StateStartedAt is the lifespan state key the demo sets at startup: the time.Time the
// startup ran. Servers copy it into every request scope, so GET /scope lists it.
const StateStartedAt = "demo.started_at"

// App is the demo app: its routes and mounts, and a lifespan that records
// StateStartedAt and fans out to every mounted app that supports lifespan. It is safe
// for concurrent use.
type App struct {
	mount *mount.Mount
}

// ServeASGI serves HTTP and WebSocket scopes through the mount, and the lifespan scope
// with the demo's own member first, then the mounted apps.
func (a *App) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if s, ok := scope.(*asgi.LifespanScope); ok {
		members := []fanout.Member{{Name: "demo", App: asgi.AppFunc(lifespan)}, {Name: "mounts", App: a.mount}}
		return fanout.Lifespan(ctx, s, receive, send, members)
	}
	return a.mount.ServeASGI(ctx, scope, receive, send)
}

// Inline reports what the mount's matched app says (see mount.Mount.Inline).
func (a *App) Inline(scope asgi.Scope) bool { return a.mount.Inline(scope) }

// Recycles reports what the mount says (mount.Mount.Recycles).
func (a *App) Recycles() bool { return a.mount.Recycles() }

// RecyclesBody reports what the mount says (mount.Mount.RecyclesBody).
func (a *App) RecyclesBody(scope asgi.Scope) bool { return a.mount.RecyclesBody(scope) }

// WebSocketHandler reports what the mount's matched app says (see
// mount.Mount.WebSocketHandler).
func (a *App) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	return a.mount.WebSocketHandler(scope)
}

// lifespan is the demo's own lifespan member: it records the startup time in the state
// and has nothing to release at shutdown.
func lifespan(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.LifespanScope)
	if !ok {
		return fmt.Errorf("demo: unsupported scope type %q", scope.Type())
	}
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		switch msg.(type) {
		case *asgi.LifespanStartup:
			if s.State == nil {
				return errors.New("demo: lifespan scope without state")
			}
			s.State[StateStartedAt] = time.Now()
			if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
				return err
			}
		case *asgi.LifespanShutdown:
			return send(ctx, &asgi.LifespanShutdownComplete{})
		}
	}
}
