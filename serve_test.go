package asgo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// lifecycleApp answers HTTP with the lifespan state's "greeting" and records its
// lifespan shutdown; startupErr, when set, fails the startup with that message.
type lifecycleApp struct {
	startupErr string
	shutdown   atomic.Bool
	bodyRead   chan struct{} // closed when an /upload request has read its first chunk
}

func (a *lifecycleApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.LifespanScope:
		return a.lifespan(ctx, s, receive, send)
	case *asgi.HTTPScope:
		if s.Path == "/upload" {
			return a.upload(ctx, receive, send)
		}
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte(fmt.Sprint(s.State.Get("greeting")))})
	}
	return errors.New("unsupported scope")
}

func (a *lifecycleApp) lifespan(ctx context.Context, s *asgi.LifespanScope, receive asgi.Receive, send asgi.Send) error {
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		switch msg.(type) {
		case *asgi.LifespanStartup:
			if a.startupErr != "" {
				return send(ctx, &asgi.LifespanStartupFailed{Message: a.startupErr})
			}
			s.State["greeting"] = "hello from the state"
			if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
				return err
			}
		case *asgi.LifespanShutdown:
			a.shutdown.Store(true)
			return send(ctx, &asgi.LifespanShutdownComplete{})
		}
	}
}

// upload reads the body until the client is gone: a stalled upload keeps the drain
// waiting.
func (a *lifecycleApp) upload(ctx context.Context, receive asgi.Receive, send asgi.Send) error {
	first := true
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		if first {
			first = false
			close(a.bodyRead)
		}
		if req, ok := msg.(*asgi.HTTPRequest); !ok || !req.MoreBody {
			return send(ctx, &asgi.HTTPResponseStart{Status: 204})
		}
	}
}

type served struct {
	addr string
	done chan error
	log  *testutil.LogBuffer
}

// serve runs asgo.Serve on 127.0.0.1:0 until ctx is cancelled.
func serve(t *testing.T, ctx context.Context, app asgi.App, cfg asgo.Config) *served {
	t.Helper()
	s := &served{done: make(chan error, 1), log: &testutil.LogBuffer{}}
	ready := make(chan string, 1)
	cfg.Server.Binds = []string{"127.0.0.1:0"}
	cfg.Server.Logger = slog.New(slog.NewTextHandler(s.log, nil))
	cfg.OnReady = func(addrs []net.Addr) { ready <- addrs[0].String() }
	go func() { s.done <- asgo.Serve(ctx, app, cfg) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		s.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not become ready")
	}
	return s
}

func (s *served) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("Serve did not return; log:\n%s", s.log)
		return nil
	}
}

func TestServeRunsTheLifespanAroundServing(t *testing.T) {
	app := &lifecycleApp{}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := asgo.Config{}
	cfg.Server.GracefulTimeout = 3 * time.Second
	s := serve(t, ctx, app, cfg)
	resp, err := http.Get("http://" + s.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from the state" {
		t.Fatalf("GET / = %q, want the state set at startup", body)
	}
	cancel()
	if err := s.wait(t); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	if !app.shutdown.Load() {
		t.Fatal("the lifespan shutdown did not run")
	}
	if strings.Contains(s.log.String(), "drain incomplete") {
		t.Fatalf("the client's idle keep-alive connection held the drain:\n%s", s.log)
	}
}

func TestServeReportsAFailedStartup(t *testing.T) {
	s := serve(t, context.Background(), &lifecycleApp{startupErr: "database unreachable"}, asgo.Config{})
	err := s.wait(t)
	var startup *asgo.StartupError
	if !errors.As(err, &startup) || !strings.Contains(err.Error(), "database unreachable") {
		t.Fatalf("Serve = %v, want a StartupError with the app's message", err)
	}
}

// The drain may use up its whole timeout (a stalled upload); the lifespan shutdown still
// gets its own time afterwards and a clean shutdown is a clean stop.
func TestLifespanShutdownRunsAfterAnExhaustedDrain(t *testing.T) {
	app := &lifecycleApp{bodyRead: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := asgo.Config{}
	cfg.Server.GracefulTimeout = 300 * time.Millisecond
	s := serve(t, ctx, app, cfg)
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npart of it")
	select {
	case <-app.bodyRead:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload did not reach the app")
	}
	cancel()
	if err := s.wait(t); err != nil {
		t.Fatalf("Serve = %v, want nil after the app's shutdown succeeded", err)
	}
	if !app.shutdown.Load() {
		t.Fatal("the lifespan shutdown was skipped after the drain timed out")
	}
	if !strings.Contains(s.log.String(), "drain incomplete") {
		t.Fatalf("no log line for the exhausted drain:\n%s", s.log)
	}
}

func TestCommandExitStatuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  asgo.Command
		args []string
		want int
		out  []string // in the output
		not  []string // not in the output
	}{
		{"help", asgo.Command{Name: "myapp", App: &lifecycleApp{}}, []string{"--help"}, asgo.ExitOK,
			[]string{"Usage: myapp", "--bind", "--timeout-lifespan-shutdown", "--wsgi-workers", "--log-level"}, []string{"--app"}},
		{"help with apps", asgo.Command{Name: "asgo serve", Apps: map[string]func() (asgi.App, error){"a": nil}, DefaultApp: "a"},
			[]string{"--help"}, asgo.ExitOK, []string{"--app"}, nil},
		{"bad flag", asgo.Command{App: &lifecycleApp{}}, []string{"--no-such-flag"}, asgo.ExitUsage, []string{"no-such-flag"}, nil},
		{"argument", asgo.Command{App: &lifecycleApp{}}, []string{"extra"}, asgo.ExitUsage, []string{"unexpected argument"}, nil},
		{"unknown app", asgo.Command{Apps: map[string]func() (asgi.App, error){"a": nil}, DefaultApp: "a"},
			[]string{"--app", "b"}, asgo.ExitUsage, []string{"unknown app"}, nil},
		{"startup failed", asgo.Command{App: &lifecycleApp{startupErr: "database unreachable"}},
			[]string{"--bind", "127.0.0.1:0"}, asgo.ExitStartupFailed, []string{"database unreachable"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tc.cmd.Stderr = &out
			if got := tc.cmd.Main(tc.args); got != tc.want {
				t.Fatalf("exit status %d, want %d\n%s", got, tc.want, out.String())
			}
			for _, s := range tc.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out.String(), s) {
					t.Errorf("output has %q:\n%s", s, out.String())
				}
			}
		})
	}
}
