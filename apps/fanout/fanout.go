package fanout

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/asgo-dev/asgo/lifespan"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Member is one app taking part in a lifespan fan-out. Name identifies it in failure
// messages (for example "/wsgi").
type Member struct {
	Name string
	App  asgi.App
}

// ErrNoMember is returned by Lifespan, before it replies to lifespan.startup, when no
// member supports lifespan; servers then treat the composite app as not supporting it.
var ErrNoMember = errors.New("fanout: no member app supports lifespan")

// Unique returns members without repeats of the same app (the same pointer, or the same
// comparable value), keeping the first occurrence. Apps of non-comparable types (such
// as asgi.AppFunc) are always kept.
func Unique(members []Member) []Member {
	out := make([]Member, 0, len(members))
	for _, m := range members {
		if !containsApp(out, m.App) {
			out = append(out, m)
		}
	}
	return out
}

func containsApp(ms []Member, app asgi.App) bool {
	if app == nil || !reflect.TypeOf(app).Comparable() {
		return false
	}
	for _, m := range ms {
		if m.App != nil && reflect.TypeOf(m.App) == reflect.TypeOf(app) && m.App == app {
			return true
		}
	}
	return false
}

// Lifespan serves a lifespan scope for members. It waits for lifespan.startup, starts
// the members one after the other, and replies lifespan.startup.complete once all of
// them that support lifespan have started. A member that fails its startup fails the
// whole startup with "name: message" after the members already started are shut down
// again. Members that return, panic or send an unexpected message before replying to
// startup are taken as not supporting lifespan and skipped; if that is every member,
// Lifespan returns ErrNoMember without replying.
//
// On lifespan.shutdown the started members are shut down in reverse order; a member
// that returns without error after its startup, or while shutting down, counts as shut
// down (as uvicorn does); one that returns an error or panics counts as failed. Failures are
// joined into one lifespan.shutdown.failed message.
//
// Every member shares scope.State. Lifespan returns when the protocol is over or ctx is
// done, and cancels every member's context before it returns.
func Lifespan(ctx context.Context, scope *asgi.LifespanScope, receive asgi.Receive, send asgi.Send, members []Member) error {
	if err := expect(ctx, receive, asgi.TypeLifespanStartup); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started, failure, err := startAll(ctx, scope, members)
	if err != nil {
		return err
	}
	if failure != "" {
		shutdownAll(ctx, started)
		return send(ctx, &asgi.LifespanStartupFailed{Message: failure})
	}
	if len(started) == 0 {
		return ErrNoMember
	}
	if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
		return err
	}
	if err := expect(ctx, receive, asgi.TypeLifespanShutdown); err != nil {
		return err
	}
	failures, err := shutdownAll(ctx, started)
	if err != nil {
		return err
	}
	if len(failures) > 0 {
		return send(ctx, &asgi.LifespanShutdownFailed{Message: strings.Join(failures, "; ")})
	}
	return send(ctx, &asgi.LifespanShutdownComplete{})
}

// expect receives one message and checks it is of type want.
func expect(ctx context.Context, receive asgi.Receive, want string) error {
	msg, err := receive(ctx)
	if err != nil {
		return err
	}
	if msg == nil || msg.Type() != want {
		return &asgi.ContractError{Msg: fmt.Sprintf("Expected ASGI message '%s', but got '%s'.", want, typeName(msg))}
	}
	return nil
}

// startAll starts members in order. It returns the started members, the failure text
// of the first member that failed its startup ("" when none did), and ctx's error
// when ctx ended first.
func startAll(ctx context.Context, scope *asgi.LifespanScope, members []Member) ([]*child, string, error) {
	var started []*child
	for _, m := range members {
		c := run(ctx, scope, m)
		ev, err := c.startup(ctx)
		if err != nil {
			c.cancel()
			shutdownAll(ctx, started)
			return nil, "", err
		}
		switch msg := ev.Msg.(type) {
		case *asgi.LifespanStartupComplete:
			started = append(started, c)
		case *asgi.LifespanStartupFailed:
			c.cancel()
			return started, label(m.Name, msg.Message, "startup failed"), nil
		default: // unsupported: returned, panicked or broke the protocol
			c.cancel()
		}
	}
	return started, "", nil
}

// shutdownAll shuts started down in reverse order and returns their failure texts.
func shutdownAll(ctx context.Context, started []*child) ([]string, error) {
	var failures []string
	for i := len(started) - 1; i >= 0; i-- {
		c := started[i]
		ev, err := c.shutdown(ctx)
		c.cancel()
		if err != nil {
			return failures, err
		}
		if f := shutdownFailure(c.name, ev); f != "" {
			failures = append(failures, f)
		}
	}
	return failures, nil
}

// shutdownFailure returns the failure text for a member's answer to shutdown, or ""
// when it shut down cleanly (a reply of complete, or returning without error).
func shutdownFailure(name string, ev lifespan.Reply) string {
	switch msg := ev.Msg.(type) {
	case *asgi.LifespanShutdownComplete:
		return ""
	case *asgi.LifespanShutdownFailed:
		return label(name, msg.Message, "shutdown failed")
	}
	if ev.Err == nil || errors.Is(ev.Err, lifespan.ErrExited) {
		return ""
	}
	return label(name, ev.Err.Error(), "")
}

func label(name, msg, fallback string) string {
	if msg == "" {
		msg = fallback
	}
	if name == "" {
		return msg
	}
	return name + ": " + msg
}

func typeName(m asgi.Message) string {
	if m == nil {
		return "<nil>"
	}
	return m.Type()
}
