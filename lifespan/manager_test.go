package lifespan

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// scripted returns an app that answers lifespan.startup with onStartup and
// lifespan.shutdown with onShutdown, then returns nil. A nil reply makes it wait for
// ctx instead (to provoke timeouts). sendErrs records what its sends returned.
func scripted(onStartup, onShutdown asgi.Message, sendErrs chan<- error) asgi.App {
	return asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		ls := scope.(*asgi.LifespanScope)
		for {
			msg, err := receive(ctx)
			if err != nil {
				return err
			}
			reply := onShutdown
			if _, ok := msg.(*asgi.LifespanStartup); ok {
				ls.State["db"] = "connected"
				reply = onStartup
			}
			if reply == nil {
				<-ctx.Done()
				return ctx.Err()
			}
			err = send(ctx, reply)
			if sendErrs != nil {
				sendErrs <- err
			}
			if _, ok := msg.(*asgi.LifespanShutdown); ok {
				return nil
			}
		}
	})
}

func logger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	var mu atomicWriter
	mu.w = &buf
	return slog.New(slog.NewTextHandler(&mu, &slog.HandlerOptions{Level: slog.LevelInfo})), &buf
}

// atomicWriter serialises writes so the log can be read after the test.
type atomicWriter struct {
	busy atomic.Bool
	w    *bytes.Buffer
}

func (a *atomicWriter) Write(p []byte) (int, error) {
	for !a.busy.CompareAndSwap(false, true) {
	}
	defer a.busy.Store(false)
	return a.w.Write(p)
}

func TestComplete(t *testing.T) {
	log, buf := logger()
	m := New(scripted(&asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownComplete{}, nil), Config{}, log)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Waiting for application startup.", "Application startup complete.", "Waiting for application shutdown.", "Application shutdown complete."} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf)
		}
	}
}

func TestStartupFailedWithMessage(t *testing.T) {
	m := New(scripted(&asgi.LifespanStartupFailed{Message: "database unreachable"}, nil, nil), Config{Mode: Auto}, nil)
	err := m.Startup(context.Background())
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Phase != "startup" || fe.Message != "database unreachable" {
		t.Fatalf("err = %v, want startup FailedError with the app's message", err)
	}
	if !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("message lost: %v", err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after a failed startup = %v, want nil (nothing to shut down)", err)
	}
}

func TestShutdownFailedWithMessage(t *testing.T) {
	m := New(scripted(&asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownFailed{Message: "flush failed"}, nil), Config{}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	var fe *FailedError
	if err := m.Shutdown(context.Background()); !errors.As(err, &fe) || fe.Phase != "shutdown" || fe.Message != "flush failed" {
		t.Fatalf("err = %v", err)
	}
}

func TestStartupTimeout(t *testing.T) {
	for _, mode := range []Mode{Auto, On} {
		t.Run(mode.String(), func(t *testing.T) {
			m := New(scripted(nil, nil, nil), Config{Mode: mode, StartupTimeout: 30 * time.Millisecond}, nil)
			begin := time.Now()
			err := m.Startup(context.Background())
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if d := time.Since(begin); d < 30*time.Millisecond || d > 5*time.Second {
				t.Fatalf("timed out after %v", d)
			}
			select {
			case <-m.call.ctx.Done():
			default:
				t.Fatal("app context not cancelled after the timeout")
			}
		})
	}
}

func TestShutdownTimeout(t *testing.T) {
	m := New(scripted(&asgi.LifespanStartupComplete{}, nil, nil), Config{ShutdownTimeout: 30 * time.Millisecond}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestStartupContextCancelled(t *testing.T) {
	m := New(scripted(nil, nil, nil), Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := m.Startup(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
}

// unsupportedApps are apps that end the protocol before replying to startup.
var unsupportedApps = []struct {
	name  string
	app   asgi.App
	cause string // in the On mode error
}{
	{"returns error", asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		return errors.New("only http")
	}), "only http"},
	{"returns nil at once", asgi.AppFunc(func(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error {
		return nil
	}), "returned before replying"},
	{"returns nil after receiving startup", asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		_, err := r(ctx)
		return err
	}), "returned before replying"},
	{"panics", asgi.AppFunc(func(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error {
		panic("boom")
	}), "panicked: boom"},
	{"sends an http message", asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		_ = send(ctx, &asgi.HTTPResponseStart{Status: 200})
		<-ctx.Done()
		return nil
	}), "Got invalid state transition on lifespan protocol. Unexpected ASGI message 'http.response.start'."},
}

func TestUnsupportedAuto(t *testing.T) {
	for _, tt := range unsupportedApps {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := logger()
			m := New(tt.app, Config{Mode: Auto}, log)
			if err := m.Startup(context.Background()); err != nil {
				t.Fatalf("auto mode: err = %v, want nil", err)
			}
			if !strings.Contains(buf.String(), "level=INFO msg=\"ASGI 'lifespan' protocol appears unsupported.\"") {
				t.Fatalf("log:\n%s", buf)
			}
			if err := m.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown = %v, want nil", err)
			}
		})
	}
}

func TestUnsupportedOn(t *testing.T) {
	for _, tt := range unsupportedApps {
		t.Run(tt.name, func(t *testing.T) {
			m := New(tt.app, Config{Mode: On}, nil)
			err := m.Startup(context.Background())
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.cause) {
				t.Fatalf("on mode: err = %v, want ErrUnsupported with %q", err, tt.cause)
			}
		})
	}
}

func TestPanicAfterStartup(t *testing.T) {
	release := make(chan struct{})
	app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if _, err := r(ctx); err != nil {
			return err
		}
		if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
			return err
		}
		<-release
		panic("late boom")
	})
	m := New(app, Config{}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := m.Shutdown(context.Background()); err == nil || !strings.Contains(err.Error(), "late boom") {
		t.Fatalf("Shutdown = %v, want the panic", err)
	}
}

func TestStateVisibleAfterStartup(t *testing.T) {
	m := New(scripted(&asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownComplete{}, nil), Config{}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.State()["db"]; got != "connected" {
		t.Fatalf("state[db] = %v", got)
	}
	perRequest := asgi.NewState(m.State())
	perRequest.Set("db", "changed by a request")
	if m.State()["db"] != "connected" || perRequest.Get("db") != "changed by a request" {
		t.Fatal("a request's write changed the lifespan state, or was lost")
	}
	_ = m.Shutdown(context.Background())
}

func TestModeOff(t *testing.T) {
	var called atomic.Bool
	app := asgi.AppFunc(func(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error {
		called.Store(true)
		return nil
	})
	m := New(app, Config{Mode: Off}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Not synchronisation: a check that something does not happen. Off mode starts no
	// goroutine; the pause gives one started by mistake the time to call the app.
	time.Sleep(10 * time.Millisecond)
	if called.Load() {
		t.Fatal("app called in off mode")
	}
	if len(m.State()) != 0 {
		t.Fatal("state not empty")
	}
}

func TestWrongReplyType(t *testing.T) {
	tests := []struct {
		name                  string
		onStartup, onShutdown asgi.Message
		mode                  Mode
		startupErr            bool // Startup fails (else Shutdown does)
		want                  string
	}{
		{"shutdown reply to startup", &asgi.LifespanShutdownComplete{}, nil, On, true, "Unexpected ASGI message 'lifespan.shutdown.complete'."},
		{"startup reply to shutdown", &asgi.LifespanStartupComplete{}, &asgi.LifespanStartupComplete{}, Auto, false, "Unexpected ASGI message 'lifespan.startup.complete'."},
		{"startup failed to shutdown", &asgi.LifespanStartupComplete{}, &asgi.LifespanStartupFailed{}, Auto, false, "Unexpected ASGI message 'lifespan.startup.failed'."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sendErrs := make(chan error, 2)
			m := New(scripted(tt.onStartup, tt.onShutdown, sendErrs), Config{Mode: tt.mode}, nil)
			err := m.Startup(context.Background())
			if !tt.startupErr {
				if err != nil {
					t.Fatal(err)
				}
				<-sendErrs
				err = m.Shutdown(context.Background())
			}
			if !asgi.IsContractError(err) || !strings.Contains(err.Error(), "Got invalid state transition on lifespan protocol.") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want contract error %q", err, tt.want)
			}
			if sendErr := <-sendErrs; !asgi.IsContractError(sendErr) {
				t.Fatalf("the app's send returned %v, want the contract error", sendErr)
			}
		})
	}
}

func TestSecondStartupReply(t *testing.T) {
	sendErr := make(chan error, 1)
	app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if _, err := r(ctx); err != nil {
			return err
		}
		_ = send(ctx, &asgi.LifespanStartupComplete{})
		sendErr <- send(ctx, &asgi.LifespanStartupComplete{})
		if _, err := r(ctx); err != nil {
			return err
		}
		return send(ctx, &asgi.LifespanShutdownComplete{})
	})
	m := New(app, Config{}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-sendErr; !asgi.IsContractError(err) {
		t.Fatalf("second startup.complete: %v, want a contract error", err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v: a refused extra reply must not end the next phase", err)
	}
}

func TestAppReturnsEarlyAfterStartupComplete(t *testing.T) {
	tests := []struct {
		name    string
		ret     error
		wantErr bool
	}{
		{"returns nil", nil, false},
		{"returns error", errors.New("worker crashed"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			returned := make(chan struct{})
			app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
				defer close(returned)
				if _, err := r(ctx); err != nil {
					return err
				}
				if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
					return err
				}
				return tt.ret
			})
			m := New(app, Config{ShutdownTimeout: 5 * time.Second}, nil)
			if err := m.Startup(context.Background()); err != nil {
				t.Fatal(err)
			}
			<-returned
			begin := time.Now()
			err := m.Shutdown(context.Background())
			if (err != nil) != tt.wantErr || tt.wantErr && !strings.Contains(err.Error(), "worker crashed") {
				t.Fatalf("Shutdown = %v, wantErr %v", err, tt.wantErr)
			}
			if time.Since(begin) > time.Second {
				t.Fatal("Shutdown waited for an app that had already returned")
			}
		})
	}
}

func TestAppReturnsDuringShutdown(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if _, err := r(ctx); err != nil {
			return err
		}
		if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
			return err
		}
		_, err := r(ctx) // shutdown: return without replying
		return err
	})
	m := New(app, Config{}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown = %v, want nil (uvicorn: returning is a clean shutdown)", err)
	}
}

// TestReplyBeforeReceive checks that a reply sent before the app read lifespan.startup
// is accepted (uvicorn accepts it too).
func TestReplyBeforeReceive(t *testing.T) {
	for i := 0; i < 50; i++ {
		app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
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
		m := New(app, Config{Mode: On}, nil)
		if err := m.Startup(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStartupTwice(t *testing.T) {
	m := New(scripted(&asgi.LifespanStartupComplete{}, &asgi.LifespanShutdownComplete{}, nil), Config{}, nil)
	if err := m.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Startup(context.Background()); !errors.Is(err, ErrReused) {
		t.Fatalf("second Startup = %v", err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown = %v, want nil", err)
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		ok   bool
	}{{"auto", Auto, true}, {"on", On, true}, {"off", Off, true}, {"ON", On, true}, {"", Auto, false}, {"yes", Auto, false}}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMode(%q) = %v, %v", tt.in, got, err)
		}
		if tt.ok && got.String() != strings.ToLower(tt.in) {
			t.Errorf("String() = %q", got.String())
		}
	}
	if Mode(9).String() != "Mode(9)" {
		t.Error(Mode(9).String())
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.Normalize()
	if c.StartupTimeout != 60*time.Second || c.ShutdownTimeout != 30*time.Second || c.Mode != Auto {
		t.Fatalf("%+v", c)
	}
}
