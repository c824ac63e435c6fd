package asgo

import (
	"context"
	"errors"
	"fmt"

	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/channels"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/lifespan"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// ErrServerStopped is returned by Serve when the event loops stopped on their own (for
// example after an accept failure), not because its context was cancelled.
var ErrServerStopped = errors.New("asgo: the server stopped unexpectedly")

// StartupError is returned by Serve when the app's lifespan startup failed, or its
// channel layer could not be made (Redis unreachable); nothing was served. Run exits
// with status 3 for it.
type StartupError struct{ Err error }

func (e *StartupError) Error() string { return "asgo: application startup failed: " + e.Err.Error() }
func (e *StartupError) Unwrap() error { return e.Err }

// ShutdownError is returned by Serve when the app's lifespan shutdown failed after a
// drain. Run exits with status 1 for it.
type ShutdownError struct{ Err error }

func (e *ShutdownError) Error() string { return "asgo: application shutdown failed: " + e.Err.Error() }
func (e *ShutdownError) Unwrap() error { return e.Err }

// Serve wraps app in the middleware cfg configures (ProxyHeaders, IPFilter, Static), runs the
// lifespan startup of the result, serves it as cfg says until ctx is cancelled,
// then drains (within cfg.Server.GracefulTimeout: new connections are refused, idle
// ones closed, requests in flight complete) and runs the lifespan shutdown (within
// cfg.Lifespan.ShutdownTimeout, counted after the drain). A drain that runs out of time
// is logged and closes the remaining connections; it is not an error.
//
// Serve returns nil after a clean stop, a *StartupError when the startup failed, an
// error when a middleware option is invalid or a listener cannot be bound, ErrServerStopped when the loops stopped on
// their own, or a *ShutdownError when the app's shutdown failed. It may be called more
// than once in a process, on other binds.
func Serve(ctx context.Context, app asgi.App, cfg Config) error {
	log := cfg.Server.Normalize().Logger
	wsgi.SetDefaults(cfg.WSGI)
	if limit, err := eventloop.RaiseOpenFileLimit(); err != nil {
		log.Warn("could not raise the open-file limit", "limit", limit, "err", err)
	}
	if cfg.Proxy.Logger == nil {
		cfg.Proxy.Logger = log
	}
	app, err := cfg.wrap(app)
	if err != nil {
		return fmt.Errorf("asgo: %w", err)
	}
	layer, closeLayer, err := cfg.Channels.open(ctx, log)
	if err != nil {
		return &StartupError{Err: err}
	}
	defer closeLayer()
	prev := channels.SetDefault(layer)
	defer channels.SetDefault(prev)
	life := lifespan.New(app, cfg.Lifespan, log)
	if err := life.Startup(ctx); err != nil {
		return &StartupError{Err: err}
	}
	srvCfg := cfg.Server
	srvCfg.Logger = log
	srvCfg.State = life.State
	srv := eventloop.New(srvCfg, app)
	if err := srv.Start(); err != nil {
		_ = life.Shutdown(context.Background())
		return fmt.Errorf("asgo: %w", err)
	}
	if cfg.OnReady != nil {
		cfg.OnReady(srv.Addrs())
	}
wait:
	select {
	case <-ctx.Done():
	case <-srv.Done():
		log.Error("the server stopped unexpectedly")
		_ = life.Shutdown(context.Background())
		return ErrServerStopped
	case <-cfg.ReopenAccessLog:
		if err := srv.ReopenAccessLog(); err != nil {
			log.Error("cannot reopen the access log", "err", err)
		} else {
			log.Info("access log reopened")
		}
		goto wait
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		log.Warn("drain incomplete", "err", err)
	}
	if err := life.Shutdown(context.Background()); err != nil {
		return &ShutdownError{Err: err}
	}
	return nil
}
