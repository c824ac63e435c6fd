package lifespan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Default timeouts, used when the Config field is zero.
const (
	DefaultStartupTimeout  = 60 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
)

// Config configures a Manager. The zero value is Auto mode with the default timeouts.
type Config struct {
	Mode Mode
	// StartupTimeout bounds the wait for the reply to lifespan.startup. If zero,
	// DefaultStartupTimeout (60 s) is used.
	StartupTimeout time.Duration
	// ShutdownTimeout bounds the wait for the reply to lifespan.shutdown. If zero,
	// DefaultShutdownTimeout (30 s) is used.
	ShutdownTimeout time.Duration
}

// Normalize returns c with every unset (zero or negative) timeout replaced by its
// default, the values a Manager made with c uses.
func (c Config) Normalize() Config {
	if c.StartupTimeout <= 0 {
		c.StartupTimeout = DefaultStartupTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	return c
}

// stage is where the Manager is in its life, as seen by Startup and Shutdown.
type stage uint8

const (
	stageIdle    stage = iota // Startup not called yet
	stageStartup              // Startup running
	stageRunning              // startup complete: Shutdown will run the shutdown phase
	stageInert                // off, unsupported, failed or timed out: Shutdown does nothing
	stageStopped              // Shutdown ran
)

// event ends a phase: a valid reply in msg, or err (a contract error, the app's error
// or panic, or errExited).
type event struct {
	msg asgi.Message
	err error
}

// Manager runs one app's lifespan protocol.
//
// Concurrency: Startup and then Shutdown are called once each, from one goroutine (the
// server's main goroutine); Shutdown must not run while Startup has not returned (cancel
// Startup's context instead). State may be called from any goroutine once Startup has
// returned. The app's own goroutine talks to the Manager through its receive and send,
// which are synchronised internally.
type Manager struct {
	app    asgi.App
	cfg    Config
	log    *slog.Logger
	scope  *asgi.LifespanScope
	inbox  chan asgi.Message // server-to-app messages; at most one per phase
	result chan event        // one event per phase; capacity 1, so never blocks
	ctx    context.Context   // the app's context, cancelled when the protocol ends
	cancel context.CancelFunc

	// Guarded by mu:
	mu      sync.Mutex
	stage   stage
	order   asgi.LifespanOrder // idle once the current phase has its event
	exited  bool
	exitErr error
}

// New returns a Manager for app. A nil log discards the Manager's messages.
func New(app asgi.App, cfg Config, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		app:    app,
		cfg:    cfg.Normalize(),
		log:    log,
		scope:  &asgi.LifespanScope{ASGI: asgi.DefaultInfo, State: make(map[string]any)},
		inbox:  make(chan asgi.Message, 2),
		result: make(chan event, 1),
		ctx:    ctx,
		cancel: cancel,
	}
}

// State returns the lifespan state the app filled during startup. Servers copy it into
// every request scope with asgi.CopyState; it must be treated as read-only once Startup
// has returned. It is empty in Off mode and when the app does not support lifespan.
func (m *Manager) State() map[string]any { return m.scope.State }

// Startup calls the app's lifespan on a new goroutine, sends lifespan.startup and waits
// for the reply, the app's return, the startup timeout or ctx. It returns nil when the
// startup completed (or, in Auto mode, when the app does not support lifespan; always
// in Off mode), a *FailedError carrying the app's message for lifespan.startup.failed,
// an error wrapping ErrTimeout on timeout, ctx's error when ctx ended, and in On mode an
// error wrapping ErrUnsupported and the cause for an app without lifespan support.
func (m *Manager) Startup(ctx context.Context) error {
	if m.cfg.Mode == Off {
		m.setStage(stageInert)
		return nil
	}
	if !m.begin() {
		return ErrReused
	}
	m.log.Info("Waiting for application startup.")
	go m.serve()
	ev, err := m.await(ctx, &asgi.LifespanStartup{}, m.cfg.StartupTimeout)
	if err != nil {
		m.end(stageInert)
		return err
	}
	return m.startupOutcome(ev)
}

// begin moves from idle to startup and arms the startup phase before the app runs, so
// a reply sent at once is accepted; false when Startup ran before.
func (m *Manager) begin() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stage != stageIdle {
		return false
	}
	m.stage = stageStartup
	m.order.State = asgi.LifespanStartingUp
	return true
}

func (m *Manager) setStage(s stage) {
	m.mu.Lock()
	m.stage = s
	m.mu.Unlock()
}

// end sets the final stage and cancels the app's context.
func (m *Manager) end(s stage) {
	m.setStage(s)
	m.cancel()
}

func (m *Manager) startupOutcome(ev event) error {
	switch msg := ev.msg.(type) {
	case *asgi.LifespanStartupComplete:
		m.setStage(stageRunning)
		m.log.Info("Application startup complete.")
		return nil
	case *asgi.LifespanStartupFailed:
		m.end(stageInert)
		return &FailedError{Phase: "startup", Message: msg.Message}
	}
	m.end(stageInert)
	if m.cfg.Mode == Auto {
		m.log.Info("ASGI 'lifespan' protocol appears unsupported.")
		m.log.Debug("lifespan: app ended the protocol before replying to startup", "error", ev.err)
		return nil
	}
	return fmt.Errorf("%w: %w", ErrUnsupported, ev.err)
}

// Shutdown sends lifespan.shutdown and waits for the reply, the app's return, the
// shutdown timeout or ctx. It does nothing and returns nil unless Startup completed.
// It returns nil for lifespan.shutdown.complete and for an app that returned nil; a
// *FailedError for lifespan.shutdown.failed; an error wrapping ErrTimeout on timeout;
// ctx's error; or the app's error, panic or contract violation. The app's context is
// cancelled when Shutdown returns.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	running := m.stage == stageRunning
	m.stage = stageStopped
	m.mu.Unlock()
	if !running {
		return nil
	}
	defer m.cancel()
	m.log.Info("Waiting for application shutdown.")
	ev, armed := m.armShutdown()
	if armed {
		var err error
		if ev, err = m.await(ctx, &asgi.LifespanShutdown{}, m.cfg.ShutdownTimeout); err != nil {
			return err
		}
	}
	if err := shutdownOutcome(ev); err != nil {
		return err
	}
	m.log.Info("Application shutdown complete.")
	return nil
}

func shutdownOutcome(ev event) error {
	switch msg := ev.msg.(type) {
	case *asgi.LifespanShutdownComplete:
		return nil
	case *asgi.LifespanShutdownFailed:
		return &FailedError{Phase: "shutdown", Message: msg.Message}
	}
	if ev.err == nil || errors.Is(ev.err, errExited) {
		return nil
	}
	return fmt.Errorf("lifespan: shutdown: %w", ev.err)
}

// armShutdown opens the shutdown phase and reports true. An app that already returned
// ends the phase at once: armShutdown then returns its exit event and false.
func (m *Manager) armShutdown() (event, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exited {
		return event{err: exitEvent(m.exitErr)}, false
	}
	m.order.State = asgi.LifespanShuttingDown
	return event{}, true
}

// await sends msg for the armed phase and waits for the phase's event, the timeout or
// ctx.
func (m *Manager) await(ctx context.Context, msg asgi.Message, timeout time.Duration) (event, error) {
	m.inbox <- msg
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case ev := <-m.result:
		return ev, nil
	case <-t.C:
		return m.abandon(fmt.Errorf("%w: no reply to '%s' within %v", ErrTimeout, msg.Type(), timeout))
	case <-ctx.Done():
		return m.abandon(fmt.Errorf("lifespan: waiting for the reply to '%s': %w", msg.Type(), ctx.Err()))
	}
}

// abandon stops waiting for the current phase. If the phase's event arrived in the
// meantime it wins over err.
func (m *Manager) abandon(err error) (event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.order.Waiting() {
		return <-m.result, nil // settled: the event is buffered
	}
	m.order.State = asgi.LifespanIdle
	return event{}, err
}

func exitEvent(err error) error {
	if err == nil {
		return errExited
	}
	return err
}

// serve runs the app's lifespan call. It is the app goroutine.
func (m *Manager) serve() {
	var err error
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("lifespan: app panicked: %v", r)
			m.log.Debug("lifespan: app panic", "panic", r, "stack", string(debug.Stack()))
		}
		m.exit(err)
	}()
	err = m.app.ServeASGI(m.ctx, m.scope, m.receive, m.send)
}

// exit records the app's return and ends the current phase with it.
func (m *Manager) exit(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exited, m.exitErr = true, err
	if !m.order.Waiting() && m.stage == stageRunning && err != nil {
		m.log.Error("lifespan: app returned an error after startup", "error", err)
	}
	m.settleLocked(event{err: exitEvent(err)})
}

// settleLocked delivers ev as the end of the current phase unless it already has one.
func (m *Manager) settleLocked(ev event) {
	if m.order.Waiting() {
		m.order.State = asgi.LifespanIdle
		m.result <- ev
	}
}

// receive is the app's Receive.
func (m *Manager) receive(ctx context.Context) (asgi.Message, error) {
	select {
	case msg := <-m.inbox:
		return msg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.ctx.Done():
		return nil, m.ctx.Err()
	}
}

// send is the app's Send: it accepts the one reply the current phase expects. Any
// other message is refused and ends the phase with the contract error.
func (m *Manager) send(_ context.Context, msg asgi.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.order.Check(msg); err != nil {
		m.settleLocked(event{err: err})
		return err
	}
	m.result <- event{msg: msg} // the reply ended the phase; result has room for it
	return nil
}
