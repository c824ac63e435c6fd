package mount

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// lifeApp supports lifespan; it records its events in log and fails its startup with
// failMsg when set.
type lifeApp struct {
	name    string
	failMsg string
	mu      *sync.Mutex
	log     *[]string
}

func (a lifeApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if _, ok := scope.(*asgi.LifespanScope); !ok {
		return errors.New("lifespan only")
	}
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		a.mu.Lock()
		*a.log = append(*a.log, a.name+" "+msg.Type())
		a.mu.Unlock()
		switch msg.(type) {
		case *asgi.LifespanStartup:
			if a.failMsg != "" {
				return send(ctx, &asgi.LifespanStartupFailed{Message: a.failMsg})
			}
			if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
				return err
			}
		case *asgi.LifespanShutdown:
			return send(ctx, &asgi.LifespanShutdownComplete{})
		}
	}
}

// serveLifespan runs m's lifespan with startup (and shutdown unless startup failed)
// and returns m's replies.
func serveLifespan(t *testing.T, m *Mount) []asgi.Message {
	t.Helper()
	in := make(chan asgi.Message, 2)
	var mu sync.Mutex
	var out []asgi.Message
	replied := make(chan struct{}, 2)
	receive := func(ctx context.Context) (asgi.Message, error) {
		select {
		case msg := <-in:
			return msg, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	send := func(_ context.Context, msg asgi.Message) error {
		mu.Lock()
		out = append(out, msg)
		mu.Unlock()
		replied <- struct{}{}
		return nil
	}
	done := make(chan error, 1)
	go func() {
		done <- m.ServeASGI(context.Background(), &asgi.LifespanScope{State: map[string]any{}}, receive, send)
	}()
	in <- &asgi.LifespanStartup{}
	<-replied
	mu.Lock()
	_, ok := out[0].(*asgi.LifespanStartupComplete)
	mu.Unlock()
	if ok {
		in <- &asgi.LifespanShutdown{}
		<-replied
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMountLifespanFanOut(t *testing.T) {
	var mu sync.Mutex
	var log []string
	m := New().
		Add("/wsgi", lifeApp{name: "wsgi", mu: &mu, log: &log}).
		Add("/", seen{name: "no lifespan"}).
		Add("/nethttp", lifeApp{name: "nethttp", mu: &mu, log: &log})
	replies := serveLifespan(t, m)
	if len(replies) != 2 || replies[0].Type() != asgi.TypeLifespanStartupComplete || replies[1].Type() != asgi.TypeLifespanShutdownComplete {
		t.Fatalf("replies %v", replies)
	}
	want := "wsgi lifespan.startup,nethttp lifespan.startup,nethttp lifespan.shutdown,wsgi lifespan.shutdown"
	if got := strings.Join(log, ","); got != want {
		t.Fatalf("order %s\nwant  %s", got, want)
	}
}

func TestMountLifespanFailure(t *testing.T) {
	var mu sync.Mutex
	var log []string
	m := New().
		Add("/a", lifeApp{name: "a", mu: &mu, log: &log}).
		Add("/wsgi", lifeApp{name: "wsgi", failMsg: "pool exhausted", mu: &mu, log: &log}).
		Add("/c", lifeApp{name: "c", mu: &mu, log: &log})
	replies := serveLifespan(t, m)
	failed, ok := replies[0].(*asgi.LifespanStartupFailed)
	if len(replies) != 1 || !ok || failed.Message != "/wsgi: pool exhausted" {
		t.Fatalf("replies %+v", replies)
	}
	if got := strings.Join(log, ","); got != "a lifespan.startup,wsgi lifespan.startup,a lifespan.shutdown" {
		t.Fatalf("order %s", got)
	}
}
