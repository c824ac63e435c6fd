package lifespan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// Manager runs one app's lifespan protocol: a Call with the Mode's policy, the
// timeouts and the log lines.
//
// Concurrency: Startup and then Shutdown are called once each, from one goroutine (the
// server's main goroutine); Shutdown must not run while Startup has not returned (cancel
// Startup's context instead). State may be called from any goroutine once Startup has
// returned. The app's own goroutine talks to the Manager's Call through its receive and
// send, which are synchronised internally.
type Manager struct {
	app   asgi.App
	cfg   Config
	log   *slog.Logger
	scope *asgi.LifespanScope
	call  *Call // set by Startup before it leaves stageIdle

	// Guarded by mu:
	mu    sync.Mutex
	stage stage
}

// New returns a Manager for app. A nil log discards the Manager's messages.
func New(app asgi.App, cfg Config, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		app:   app,
		cfg:   cfg.Normalize(),
		log:   log,
		scope: &asgi.LifespanScope{ASGI: asgi.DefaultInfo, State: make(map[string]any)},
	}
}

// State returns the lifespan state the app filled during startup. Every request scope
// reads it through an asgi.State (asgi.NewState), copied on the request's first write;
// so it must be treated as read-only once Startup has returned. It is empty in Off mode and when the app does not support lifespan.
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
	m.call = Start(context.Background(), m.app, m.scope, m.exited)
	r, err := m.call.Startup(ctx, m.cfg.StartupTimeout)
	if err != nil {
		m.end(stageInert)
		return waitError(err, &asgi.LifespanStartup{})
	}
	return m.startupOutcome(r)
}

// begin moves from idle to startup; false when Startup ran before.
func (m *Manager) begin() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stage != stageIdle {
		return false
	}
	m.stage = stageStartup
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
	m.call.Cancel()
}

func (m *Manager) startupOutcome(r Reply) error {
	switch msg := r.Msg.(type) {
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
		m.log.Debug("lifespan: app ended the protocol before replying to startup", "error", r.Err)
		return nil
	}
	return fmt.Errorf("%w: %w", ErrUnsupported, r.Err)
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
	defer m.call.Cancel()
	m.log.Info("Waiting for application shutdown.")
	r, err := m.call.Shutdown(ctx, m.cfg.ShutdownTimeout)
	if err != nil {
		return waitError(err, &asgi.LifespanShutdown{})
	}
	if err := shutdownOutcome(r); err != nil {
		return err
	}
	m.log.Info("Application shutdown complete.")
	return nil
}

func shutdownOutcome(r Reply) error {
	switch msg := r.Msg.(type) {
	case *asgi.LifespanShutdownComplete:
		return nil
	case *asgi.LifespanShutdownFailed:
		return &FailedError{Phase: "shutdown", Message: msg.Message}
	}
	if r.Err == nil || errors.Is(r.Err, ErrExited) {
		return nil
	}
	return fmt.Errorf("lifespan: shutdown: %w", r.Err)
}

// waitError words the error of a wait for the reply to msg: a timeout as the Call
// reported it, the end of the caller's context with what was awaited.
func waitError(err error, msg asgi.Message) error {
	if errors.Is(err, ErrTimeout) {
		return err
	}
	return fmt.Errorf("lifespan: waiting for the reply to '%s': %w", msg.Type(), err)
}

// exited is the Call's exit hook: it logs a panic's stack, and an app that returned an
// error after its startup completed while no phase was waiting.
func (m *Manager) exited(err error, endedPhase bool) {
	var pe *PanicError
	if errors.As(err, &pe) {
		m.log.Debug("lifespan: app panic", "panic", pe.Value, "stack", string(pe.Stack))
	}
	if err == nil || endedPhase {
		return
	}
	m.mu.Lock()
	running := m.stage == stageRunning
	m.mu.Unlock()
	if running {
		m.log.Error("lifespan: app returned an error after startup", "error", err)
	}
}
