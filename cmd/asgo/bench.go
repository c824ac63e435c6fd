package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const benchUsage = `Usage: asgo bench [--bench-dir DIR] [benchgrid flags]

Runs the benchmark grid of bench/ against this asgo binary: it installs the load generators
and peer servers that are missing (make -C DIR deps build), then runs DIR/bin/benchgrid with
-asgo set to this binary (with -list, -dry-run or --help it only builds). Every other flag
goes to benchgrid, for example:

  asgo bench -quick                               about a minute, table and charts
  asgo bench -servers asgo,nethttp,nbio -scenarios h1-256,idle-h1 -rounds 3
  asgo bench -list                                servers and scenarios
  asgo bench -dry-run                             the plan and its estimated duration

DIR is the bench module (default: the bench directory found from the working directory
upwards, then beside the directory of this binary). Results land in DIR/results/tmp/.
benchgrid's own flags follow.

`

// benchCmd runs the bench module's benchgrid with this binary as the asgo under test.
func benchCmd(args []string, stdout, stderr io.Writer) int {
	dir, rest, err := benchDir(args)
	if err != nil {
		fmt.Fprintf(stderr, "asgo bench: %v\n", err)
		return 2
	}
	help := hasAny(rest, "-h", "-help", "--help")
	if help {
		fmt.Fprint(stdout, benchUsage)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "asgo bench: %v\n", err)
		return 1
	}
	targets := []string{"deps", "build"}
	if help || hasAny(rest, "-list", "--list", "-dry-run", "--dry-run") {
		targets = []string{"build"} // nothing is measured: the peers need not be installed
	}
	prepare := exec.Command("make", append([]string{"-C", dir, "--no-print-directory"}, targets...)...)
	prepare.Stdout, prepare.Stderr = stderr, stderr
	if err := prepare.Run(); err != nil {
		fmt.Fprintf(stderr, "asgo bench: preparing %s: %v\n", dir, err)
		return 1
	}
	grid := exec.Command(filepath.Join(dir, "bin", "benchgrid"),
		append([]string{"-asgo", self, "-bin", filepath.Join(dir, "bin")}, rest...)...)
	grid.Dir = dir // benchgrid finds peers/python and results/ relative to it
	grid.Stdout, grid.Stderr = stdout, stderr
	if help {
		grid.Stderr = stdout // flag prints its defaults to stderr
	}
	if err := grid.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintf(stderr, "asgo bench: %v\n", err)
		return 1
	}
	return 0
}

// benchDir takes --bench-dir from args (or finds the bench module) and returns the
// remaining arguments.
func benchDir(args []string) (string, []string, error) {
	var rest []string
	dir := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--bench-dir" || a == "-bench-dir":
			if i+1 == len(args) {
				return "", nil, errors.New("--bench-dir needs a directory")
			}
			dir = args[i+1]
			i++
		case strings.HasPrefix(a, "--bench-dir=") || strings.HasPrefix(a, "-bench-dir="):
			dir = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	if dir == "" {
		dir = findBenchDir()
	}
	if dir == "" {
		return "", nil, errors.New("no bench module found (run from the asgo repository or pass --bench-dir)")
	}
	if !isBenchModule(dir) {
		return "", nil, fmt.Errorf("%s is not the bench module (no go.mod of github.com/asgo-dev/asgo/bench)", dir)
	}
	abs, err := filepath.Abs(dir)
	return abs, rest, err
}

// findBenchDir looks for bench/ in the working directory and its parents, then beside the
// directory holding this binary (bin/asgo -> bench/).
func findBenchDir() string {
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isBenchModule(d) {
				return d
			}
			if c := filepath.Join(d, "bench"); isBenchModule(c) {
				return c
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if c := filepath.Join(filepath.Dir(filepath.Dir(exe)), "bench"); isBenchModule(c) {
			return c
		}
	}
	return ""
}

func isBenchModule(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && strings.HasPrefix(string(b), "module github.com/asgo-dev/asgo/bench\n")
}

// hasAny reports whether args hold one of flags (as given, without a value).
func hasAny(args []string, flags ...string) bool {
	for _, a := range args {
		for _, f := range flags {
			if a == f || a == f+"=true" {
				return true
			}
		}
	}
	return false
}
