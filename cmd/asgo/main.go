package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/asgo-dev/asgo"
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

// serve runs `asgo serve`: the root package's command line with --app choosing a
// built-in app.
func serve(args []string, stderr io.Writer) int {
	return asgo.Command{Name: "asgo serve", Apps: builtinApps, DefaultApp: "demo", Stderr: stderr}.Main(args)
}
