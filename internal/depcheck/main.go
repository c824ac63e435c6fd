// Command depcheck enforces asgo's import rules (see docs/ARCHITECTURE.md) on the
// packages of the main module:
//
//   - protocol/asgi imports no other package of this module and nothing outside the
//     standard library;
//   - only eventloop (and cmd/...) may import gnet;
//   - wire packages under protocol/ (h1, h2, websocket, uwsgi, proxyproto) do not import
//     each other; any of them may import protocol/asgi and protocol/internal/...;
//   - protocol/proxyproto (it sits in front of every listener) imports nothing outside
//     the standard library;
//   - lifespan imports only protocol/asgi;
//   - apps/... import only protocol/asgi, lifespan (the lifespan driver that apps/fanout
//     runs per member) and apps/...;
//   - tlsconf imports only the standard library;
//   - nothing imports cmd/....
//
// bench/ is its own module and not checked: it may import everything.
//
// It reads `go list -json ./...` (the direct imports of non-test files) and exits 1
// listing every violation.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

const module = "github.com/asgo-dev/asgo"

type pkg struct {
	ImportPath  string
	Imports     []string
	TestImports []string
	Standard    bool
}

func main() {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "depcheck: go list:", err)
		os.Exit(2)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var violations []string
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "depcheck:", err)
			os.Exit(2)
		}
		for _, imp := range p.Imports {
			if why := check(rel(p.ImportPath), imp); why != "" {
				violations = append(violations, fmt.Sprintf("%s imports %s: %s", p.ImportPath, imp, why))
			}
		}
	}
	for _, v := range violations {
		fmt.Println("depcheck:", v)
	}
	if len(violations) > 0 {
		os.Exit(1)
	}
	fmt.Println("depcheck: ok")
}

func rel(path string) string {
	if path == module {
		return ""
	}
	return strings.TrimPrefix(path, module+"/")
}

func under(path, dir string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }

// check returns why importer may not import imp, or "" when it may.
func check(importer, imp string) string {
	ours := imp == module || strings.HasPrefix(imp, module+"/")
	if strings.HasPrefix(imp, "github.com/panjf2000/gnet") && !under(importer, "eventloop") && !under(importer, "cmd") {
		return "only eventloop imports gnet"
	}
	if !ours {
		nonStd := strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
		if under(importer, "protocol/asgi") && nonStd {
			return "protocol/asgi is standard library only"
		}
		if under(importer, "protocol/proxyproto") && nonStd {
			return "protocol/proxyproto is standard library only"
		}
		if under(importer, "tlsconf") && nonStd {
			return "tlsconf is standard library only"
		}
		return ""
	}
	target := rel(imp)
	switch {
	case under(target, "cmd"):
		return "nothing imports cmd"
	case under(importer, "protocol/asgi"):
		if !under(target, "protocol/asgi") {
			return "protocol/asgi imports nothing of ours"
		}
	case under(importer, "protocol"):
		if under(target, "protocol/asgi") || under(target, "protocol/internal") {
			return ""
		}
		if wire(importer) != wire(target) {
			return "wire packages do not import each other"
		}
	case under(importer, "tlsconf"):
		return "tlsconf imports only the standard library"
	case under(importer, "lifespan"):
		if !under(target, "protocol/asgi") && !under(target, "lifespan") {
			return "lifespan imports only the contract"
		}
	case under(importer, "apps"):
		if !under(target, "protocol/asgi") && !under(target, "lifespan") && !under(target, "apps") {
			return "apps import only the contract, lifespan and other apps"
		}
	}
	return ""
}

// wire returns the wire package a protocol path belongs to ("protocol/h1").
func wire(path string) string {
	parts := strings.SplitN(path, "/", 3)
	if len(parts) < 2 {
		return path
	}
	return parts[0] + "/" + parts[1]
}
