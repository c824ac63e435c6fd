package fanout

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// journal records lifespan events of member apps in order.
type journal struct {
	mu     sync.Mutex
	events []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.events = append(j.events, s)
	j.mu.Unlock()
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.events...)
}

// member returns an app named name that records its events in j and answers startup
// with onStartup and shutdown with onShutdown (nil: return nil instead of replying).
func member(j *journal, name string, onStartup, onShutdown asgi.Message) asgi.App {
	return asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		for {
			msg, err := receive(ctx)
			if err != nil {
				return err
			}
			phase := strings.TrimPrefix(msg.Type(), "lifespan.")
			j.add(name + " " + phase)
			reply := onShutdown
			if phase == "startup" {
				scope.(*asgi.LifespanScope).State[name] = true
				reply = onStartup
			}
			if reply == nil {
				return nil
			}
			if err := send(ctx, reply); err != nil {
				return err
			}
			if phase == "shutdown" {
				return nil
			}
		}
	})
}

func supporting(j *journal, name string) asgi.App {
	return member(j, name, &asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownComplete{})
}

// drive drives Lifespan like a server: it sends startup, and shutdown when the startup
// completed, and returns the replies and Lifespan's error.
func drive(t *testing.T, scope *asgi.LifespanScope, members []Member) ([]asgi.Message, error) {
	t.Helper()
	in := make(chan asgi.Message, 2)
	out := make(chan asgi.Message, 4)
	done := make(chan error, 1)
	receive := func(ctx context.Context) (asgi.Message, error) {
		select {
		case m := <-in:
			return m, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	send := func(_ context.Context, m asgi.Message) error { out <- m; return nil }
	go func() { done <- Lifespan(context.Background(), scope, receive, send, members) }()
	in <- &asgi.LifespanStartup{}
	var replies []asgi.Message
	select {
	case m := <-out:
		replies = append(replies, m)
	case err := <-done:
		return replies, err
	case <-time.After(5 * time.Second):
		t.Fatal("no startup reply")
	}
	if _, ok := replies[0].(*asgi.LifespanStartupComplete); ok {
		in <- &asgi.LifespanShutdown{}
		select {
		case m := <-out:
			replies = append(replies, m)
		case <-time.After(5 * time.Second):
			t.Fatal("no shutdown reply")
		}
	}
	return replies, <-done
}

func types(ms []asgi.Message) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Type())
	}
	return s
}

var (
	returnsError = asgi.AppFunc(func(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error {
		return errors.New("http only")
	})
	panics = asgi.AppFunc(func(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error { panic("boom") })
	wrong  = asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if _, err := r(ctx); err != nil {
			return err
		}
		_ = send(ctx, &asgi.LifespanShutdownComplete{})
		<-ctx.Done()
		return nil
	})
)

func TestLifespanFanOut(t *testing.T) {
	tests := []struct {
		name        string
		members     func(j *journal) []Member
		wantReplies []string
		wantJournal []string
		wantMessage string // of the failed reply
		wantErr     error
	}{
		{
			name: "all complete: startup in order, shutdown reversed",
			members: func(j *journal) []Member {
				return []Member{{"a", supporting(j, "a")}, {"b", supporting(j, "b")}, {"c", supporting(j, "c")}}
			},
			wantReplies: []string{"lifespan.startup.complete", "lifespan.shutdown.complete"},
			wantJournal: []string{"a startup", "b startup", "c startup", "c shutdown", "b shutdown", "a shutdown"},
		},
		{
			name: "unsupported members skipped",
			members: func(j *journal) []Member {
				return []Member{{"e", returnsError}, {"a", supporting(j, "a")}, {"p", panics}, {"w", wrong},
					{"n", member(j, "n", nil, nil)}, {"b", supporting(j, "b")}}
			},
			wantReplies: []string{"lifespan.startup.complete", "lifespan.shutdown.complete"},
			wantJournal: []string{"a startup", "n startup", "b startup", "b shutdown", "a shutdown"},
		},
		{
			name: "no member supports lifespan",
			members: func(j *journal) []Member {
				return []Member{{"e", returnsError}, {"p", panics}}
			},
			wantErr: ErrNoMember,
		},
		{
			name: "startup failure stops the rest and shuts the started down",
			members: func(j *journal) []Member {
				return []Member{{"a", supporting(j, "a")}, {"/wsgi", member(j, "b", &asgi.LifespanStartupFailed{Message: "no db"}, nil)}, {"c", supporting(j, "c")}}
			},
			wantReplies: []string{"lifespan.startup.failed"},
			wantMessage: "/wsgi: no db",
			wantJournal: []string{"a startup", "b startup", "a shutdown"},
		},
		{
			name: "shutdown failures joined, every member shut down",
			members: func(j *journal) []Member {
				return []Member{
					{"a", member(j, "a", &asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownFailed{Message: "x"})},
					{"b", supporting(j, "b")},
					{"c", member(j, "c", &asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownFailed{})},
				}
			},
			wantReplies: []string{"lifespan.startup.complete", "lifespan.shutdown.failed"},
			wantMessage: "c: shutdown failed; a: x",
			wantJournal: []string{"a startup", "b startup", "c startup", "c shutdown", "b shutdown", "a shutdown"},
		},
		{
			name: "member returning during shutdown counts as shut down",
			members: func(j *journal) []Member {
				return []Member{{"a", member(j, "a", &asgi.LifespanStartupComplete{}, nil)}}
			},
			wantReplies: []string{"lifespan.startup.complete", "lifespan.shutdown.complete"},
			wantJournal: []string{"a startup", "a shutdown"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j journal
			scope := &asgi.LifespanScope{State: map[string]any{}}
			replies, err := drive(t, scope, tt.members(&j))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := types(replies); !reflect.DeepEqual(got, tt.wantReplies) {
				t.Fatalf("replies %v, want %v", got, tt.wantReplies)
			}
			if got := j.get(); !reflect.DeepEqual(got, tt.wantJournal) {
				t.Fatalf("journal %v, want %v", got, tt.wantJournal)
			}
			if tt.wantMessage != "" {
				if got := failureMessage(replies[len(replies)-1]); got != tt.wantMessage {
					t.Fatalf("message %q, want %q", got, tt.wantMessage)
				}
			}
		})
	}
}

func failureMessage(m asgi.Message) string {
	switch m := m.(type) {
	case *asgi.LifespanStartupFailed:
		return m.Message
	case *asgi.LifespanShutdownFailed:
		return m.Message
	}
	return fmt.Sprintf("not a failure: %s", m.Type())
}

func TestLifespanSharedState(t *testing.T) {
	var j journal
	scope := &asgi.LifespanScope{State: map[string]any{}}
	if _, err := drive(t, scope, []Member{{"a", supporting(&j, "a")}, {"b", supporting(&j, "b")}}); err != nil {
		t.Fatal(err)
	}
	if scope.State["a"] != true || scope.State["b"] != true {
		t.Fatalf("state %v", scope.State)
	}
}

func TestLifespanCancelled(t *testing.T) {
	blocked := make(chan struct{})
	stuck := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if _, err := r(ctx); err != nil {
			return err
		}
		close(blocked)
		<-ctx.Done()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	receive := func(context.Context) (asgi.Message, error) { return &asgi.LifespanStartup{}, nil }
	send := func(context.Context, asgi.Message) error { return nil }
	done := make(chan error, 1)
	go func() {
		done <- Lifespan(ctx, &asgi.LifespanScope{State: map[string]any{}}, receive, send, []Member{{"s", stuck}})
	}()
	<-blocked
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Lifespan did not return after cancel")
	}
}

func TestLifespanExpectsStartup(t *testing.T) {
	receive := func(context.Context) (asgi.Message, error) { return &asgi.LifespanShutdown{}, nil }
	err := Lifespan(context.Background(), &asgi.LifespanScope{}, receive, nil, nil)
	if !asgi.IsContractError(err) {
		t.Fatalf("err = %v, want a contract error", err)
	}
}

type ptrApp struct{ _ int } // not zero-sized: distinct pointers differ

func (*ptrApp) ServeASGI(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error { return nil }

func TestUnique(t *testing.T) {
	p := &ptrApp{}
	f := asgi.AppFunc(func(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error { return nil })
	got := Unique([]Member{{"a", p}, {"b", f}, {"c", p}, {"d", f}, {"e", &ptrApp{}}})
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "d", "e"}) {
		t.Fatalf("got %v", names)
	}
}

// TestLifespanReplyBeforeReceive checks that a member replying before it read
// lifespan.startup is started, not skipped.
func TestLifespanReplyBeforeReceive(t *testing.T) {
	eager := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
			return err
		}
		for {
			msg, err := r(ctx)
			if err != nil {
				return err
			}
			if _, ok := msg.(*asgi.LifespanShutdown); ok {
				return send(ctx, &asgi.LifespanShutdownComplete{})
			}
		}
	})
	for i := 0; i < 50; i++ {
		replies, err := drive(t, &asgi.LifespanScope{State: map[string]any{}}, []Member{{"eager", eager}})
		if err != nil || len(replies) != 2 || replies[1].Type() != asgi.TypeLifespanShutdownComplete {
			t.Fatalf("replies %v, err %v", types(replies), err)
		}
	}
}
