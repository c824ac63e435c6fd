package asgo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Exit statuses of Run and Command.Main, the same as `asgo serve`'s.
const (
	ExitOK            = 0 // stopped by a signal after a clean drain and shutdown
	ExitFailure       = 1 // a listener could not be bound, the loops stopped, or the app's shutdown failed
	ExitUsage         = 2 // a bad flag or argument, or an unknown --app
	ExitStartupFailed = 3 // the app's lifespan startup failed
)

// Run serves app with the flags of `asgo serve` (every flag but --app) taken from
// os.Args, or from ASGO_<FLAG> environment variables for flags not given there, and exits the process when the server has stopped; it does not return. It is
// the whole main of a program:
//
//	func main() { asgo.Run(myApp) }
//
// SIGTERM or SIGINT drains gracefully and runs the lifespan shutdown; a second signal
// exits at once. SIGHUP reloads (--access-log-file, --log-level-file, the TLS certificate,
// Config.ReloadHooks); SIGUSR2 upgrades without downtime. See Command for the details and
// the exit statuses.
func Run(app asgi.App) {
	os.Exit(Command{App: app}.Main(os.Args[1:]))
}

// Command is the serve command line: the flags of `asgo serve`, logging, signals and
// exit statuses around Serve. Run uses it with App set; the asgo CLI with Apps, which
// adds the --app flag.
type Command struct {
	// Name is shown in the usage line and in error messages. If empty, the program's
	// base name is used.
	Name string
	// App is the app to serve when Apps is empty.
	App asgi.App
	// Apps, when not empty, are the apps --app chooses from by name; each is built after
	// the flags are parsed. DefaultApp names the one served without --app.
	Apps       map[string]func() (asgi.App, error)
	DefaultApp string
	// Stderr receives the logs, --help and flag errors. If nil, os.Stderr is used.
	Stderr io.Writer
}

// Main parses args (without the program name), serves until SIGTERM or SIGINT, and
// returns the exit status (ExitOK ... ExitStartupFailed). A second signal during the
// drain exits the process at once with ExitFailure. SIGHUP reloads what can change in
// place (the access-log file, the level in --log-level-file, the TLS certificate,
// Config.ReloadHooks) and
// SIGUSR2 starts a zero-downtime upgrade (Config.Upgrade); with --workers they go to
// the supervisor, which passes SIGHUP on to the workers. Main may be called once per
// process.
func (c Command) Main(args []string) int {
	stderr := c.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	name := c.Name
	if name == "" {
		name = filepath.Base(os.Args[0])
	}
	opts, err := parseFlags(name, c.appNames(), c.DefaultApp, args, stderr)
	if errors.Is(err, errHelp) {
		return ExitOK
	}
	if err != nil {
		return ExitUsage
	}
	level := new(slog.LevelVar)
	level.Set(opts.logLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	opts.config.LogLevel = level
	var app asgi.App
	if opts.config.Workers <= 1 || isWorker() {
		// (A supervisor of workers serves no app itself: only its workers build it.)
		if app, err = c.app(opts.app); err != nil {
			log.Error("cannot build the app", "app", opts.app, "err", err)
			return ExitUsage
		}
	}
	opts.config.Server.Logger = log
	ctx, stop := signalContext(log)
	defer stop()
	reload, stopHup := signalChan(syscall.SIGHUP)
	defer stopHup()
	opts.config.Reload = reload
	upgrade, stopUsr2 := signalChan(syscall.SIGUSR2)
	defer stopUsr2()
	opts.config.Upgrade = upgrade
	return exitStatus(Serve(ctx, app, opts.config), log)
}

func (c Command) appNames() []string {
	names := make([]string, 0, len(c.Apps))
	for n := range c.Apps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (c Command) app(name string) (asgi.App, error) {
	if len(c.Apps) == 0 {
		if c.App == nil {
			return nil, errors.New("no app to serve")
		}
		return c.App, nil
	}
	build, ok := c.Apps[name]
	if !ok {
		return nil, fmt.Errorf("unknown app %q (apps: %v)", name, c.appNames())
	}
	return build()
}

// signalContext returns a context cancelled by the first SIGTERM or SIGINT; a second
// one exits the process at once.
func signalContext(log *slog.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			log.Info("shutting down", "signal", sig.String())
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			log.Warn("second signal; exiting now", "signal", sig.String())
			os.Exit(ExitFailure)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// signalChan returns a channel that receives on sig (SIGHUP: reload; SIGUSR2:
// upgrade). Signals that arrive while one is pending are merged into it.
func signalChan(sig os.Signal) (<-chan struct{}, func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, sig)
	out := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				select {
				case out <- struct{}{}:
				default: // one is pending already
				}
			case <-done:
				return
			}
		}
	}()
	return out, func() {
		signal.Stop(sigs)
		close(done)
	}
}

// exitStatus logs Serve's outcome and maps it to an exit status.
func exitStatus(err error, log *slog.Logger) int {
	var startup *StartupError
	var shutdown *ShutdownError
	switch {
	case err == nil:
		log.Info("stopped")
		return ExitOK
	case errors.As(err, &startup):
		log.Error("application startup failed; exiting", "err", startup.Err)
		return ExitStartupFailed
	case errors.As(err, &shutdown):
		log.Error("application shutdown failed", "err", shutdown.Err)
		return ExitFailure
	case errors.Is(err, ErrServerStopped):
		return ExitFailure
	}
	log.Error("cannot start the server", "err", err)
	return ExitFailure
}
