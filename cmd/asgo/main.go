package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/lifespan"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `asgo — an event-driven application server (HTTP/1.1, HTTP/2, WebSocket).

Usage:
  asgo serve [flags]     serve a built-in app (see "asgo serve --help")
  asgo bench [flags]     benchmark asgo against its peers (see "asgo bench --help")
  asgo version           print the version
  asgo help              print this help
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "bench":
		return benchCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "asgo", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "asgo: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version + " " + runtime.Version()
	}
	return "devel " + runtime.Version()
}

func serve(args []string, stderr io.Writer) int {
	opts, err := parseServeFlags(args, stderr)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	log := newLogger(stderr, opts.logLevel)
	slog.SetDefault(log)
	app, err := buildApp(opts)
	if err != nil {
		log.Error("cannot build the app", "app", opts.app, "err", err)
		return 2
	}
	if limit, err := eventloop.RaiseOpenFileLimit(); err != nil {
		log.Warn("could not raise the open-file limit", "limit", limit, "err", err)
	}

	life := lifespan.New(app, lifespan.Config{Mode: opts.lifespan}, log)
	if err := life.Startup(context.Background()); err != nil {
		log.Error("application startup failed; exiting", "err", err)
		return 3
	}
	cfg := opts.server
	cfg.Logger = log
	cfg.State = life.State
	srv := eventloop.New(cfg, app)
	if err := srv.Start(); err != nil {
		log.Error("cannot start the server", "err", err)
		_ = life.Shutdown(context.Background())
		return 1
	}
	return waitAndShutdown(srv, life, srv.Config().GracefulTimeout, log)
}

// waitAndShutdown blocks until a signal (or the server's failure), then drains within
// the graceful timeout and runs the lifespan shutdown. A second signal exits at once.
func waitAndShutdown(srv *eventloop.Server, life *lifespan.Manager, grace time.Duration, log *slog.Logger) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	select {
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String(), "timeout", grace)
	case <-srv.Done():
		log.Error("the server stopped unexpectedly")
		_ = life.Shutdown(context.Background())
		return 1
	}
	go func() {
		sig := <-sigs
		log.Warn("second signal; exiting now", "signal", sig.String())
		os.Exit(1)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	code := 0
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("drain incomplete", "err", err)
	}
	if err := life.Shutdown(ctx); err != nil {
		log.Error("application shutdown failed", "err", err)
		code = 1
	}
	log.Info("stopped")
	return code
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

var _ asgi.App = asgi.AppFunc(nil)
