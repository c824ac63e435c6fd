package asgo

import (
	"context"
	"errors"
	"fmt"

	"github.com/asgo-dev/asgo/apps/proxyheaders"
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
// With cfg.TLS enabled, the certificate is loaded before the app's startup (a bad one
// is an error and nothing starts), served on the TLS listeners (see Config.TLS), and
// reloaded on every reload (a ReloadHook named "tls") and when its files change.
//
// Serve returns nil after a clean stop, a *StartupError when the startup failed, an
// error when a middleware or TLS option is invalid, the certificate does not load, or a listener cannot be bound, ErrServerStopped when the loops stopped on
// their own, or a *ShutdownError when the app's shutdown failed. It may be called more
// than once in a process, on other binds.
func Serve(ctx context.Context, app asgi.App, cfg Config) error {
	log := cfg.Server.Normalize().Logger
	h := takeHandoff() // upgrade.go: listeners passed by a parent process
	if h.err != nil {
		return fmt.Errorf("asgo: %w", h.err)
	}
	if cfg.Workers > 1 && cfg.MetricsBind != "" {
		return errors.New("asgo: --metrics-bind with --workers: each worker would need a port of its own; scrape a single process")
	}
	if cfg.Workers > 1 && h.worker == 0 {
		return supervise(ctx, cfg, &h, log) // workers.go
	}
	if len(h.listeners) > 0 {
		cfg.Server.Inherited = h.listeners
	}
	if h.worker > 0 {
		log = log.With("worker", h.worker)
		cfg.Server.Logger = log
	}
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
	if cfg.Server.ProxyProtocol && cfg.Server.ProxyProtocolTrusted == nil {
		// The PROXY protocol admits the peers whose proxy headers are believed.
		trusted, err := proxyheaders.TrustFunc(proxyheaders.Config{Trusted: cfg.ProxyHeaders.Trusted})
		if err != nil {
			return fmt.Errorf("asgo: --forwarded-allow-ips: %w", err)
		}
		cfg.Server.ProxyProtocolTrusted = trusted
	}
	tlsMgr, err := loadTLS(cfg.TLS, log)
	if err != nil {
		return fmt.Errorf("asgo: %w", err)
	}
	if tlsMgr != nil {
		defer tlsMgr.Close()
		cfg.ReloadHooks = append(cfg.ReloadHooks, ReloadHook{Name: "tls", Reload: tlsMgr.Reload})
	}
	srvCfg := cfg.Server
	if err := applyTLS(&srvCfg, tlsMgr); err != nil {
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
	srvCfg.Logger = log
	srvCfg.State = life.State
	srvCfg.Stats = srvCfg.Stats || cfg.MetricsBind != ""
	srv := eventloop.New(srvCfg, app)
	if err := srv.Start(); err != nil {
		_ = life.Shutdown(context.Background())
		return fmt.Errorf("asgo: %w", err)
	}
	logTLSListeners(log, srvCfg, srv.Addrs())
	stopMetrics, err := startMetrics(cfg.MetricsBind, srv, log)
	if err != nil {
		_ = srv.Close()
		_ = life.Shutdown(context.Background())
		return fmt.Errorf("asgo: %w", err)
	}
	defer stopMetrics()
	if cfg.OnReady != nil {
		cfg.OnReady(srv.Addrs())
	}
	h.signalReady()
	up := &upgrader{log: log, timeout: cfg.UpgradeTimeout, systemd: cfg.Server.Systemd}
	if up.timeout <= 0 {
		up.timeout = defaultUpgradeTimeout
	}
wait:
	select {
	case <-ctx.Done():
		if h.worker > 0 {
			// The supervisor and the other workers keep the sockets: stop taking
			// connections from them first, so none is refused during the drain, and
			// drain keep-alive connections softly (other processes go on serving).
			srv.StopAccepting(true)
		}
	case <-srv.Done():
		log.Error("the server stopped unexpectedly")
		_ = life.Shutdown(context.Background())
		return ErrServerStopped
	case <-cfg.Reload:
		reload(srv, &cfg, log) // reload.go
		goto wait
	case <-cfg.Upgrade:
		if h.worker > 0 {
			log.Warn("SIGUSR2 ignored in a worker: send it to the supervisor")
		} else {
			up.start(srv.DupListeners)
		}
		goto wait
	case err := <-up.done:
		if !up.finished(err) {
			goto wait
		}
		srv.StopAccepting(true)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		log.Warn("drain incomplete", "err", err)
	}
	if err := life.Shutdown(context.Background()); err != nil {
		return &ShutdownError{Err: err}
	}
	return nil
}
