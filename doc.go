// Package asgo serves ASGI-style applications (protocol/asgi) over HTTP/1.1, HTTP/2
// cleartext and WebSocket on one port, with one gnet event loop per core.
//
// A program that serves its own app needs one call:
//
//	func main() {
//		asgo.Run(asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
//			...
//		}))
//	}
//
// Run is the whole main: it takes every flag of `asgo serve` (except --app) from the
// command line, sets up logging, raises the open-file limit, runs the lifespan startup,
// serves, and turns SIGTERM or SIGINT into a graceful drain (a second signal exits at
// once), then runs the lifespan shutdown and exits with the CLI's exit codes. SIGHUP
// reloads in place (access-log file, --log-level-file, Config.ReloadHooks) and SIGUSR2
// upgrades without downtime (the program is started again on the same sockets); with
// --workers N the process supervises N workers of the same program.
//
// Serve is for programs that own their lifecycle: it serves until its context is
// cancelled, then drains and runs the lifespan shutdown before it returns. Config is
// one plain struct whose zero value gives the documented defaults; it covers
// everything the flags cover.
//
// Command is the flag-parsing front end shared by Run and the asgo CLI.
package asgo
