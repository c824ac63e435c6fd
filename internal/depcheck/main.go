// Command depcheck enforces asgo's import rules (see docs/ARCHITECTURE.md) on the
// packages of the main module:
//
//   - protocol/asgi imports no other package of this module and nothing outside the
//     standard library;
//   - only eventloop (and cmd/...) may import gnet;
//   - only metrics imports the Prometheus client (github.com/prometheus/...): the event
//     loops expose their counters through eventloop.Server.Stats, apps through plain
//     methods (apps/wsgi's Pool);
//   - wire packages under protocol/ (h1, h2, websocket, uwsgi, proxyproto) do not import
//     each other; any of them may import protocol/asgi and protocol/internal/...;
//   - protocol/proxyproto (it sits in front of every listener) imports nothing outside
//     the standard library;
//   - lifespan imports only protocol/asgi;
//   - apps/... import only protocol/asgi, lifespan (the lifespan driver that apps/fanout
//     runs per member), the channel-layer contract (channels, channels/channelstest)
//     and apps/...;
//   - tlsconf imports only the standard library;
//   - channels (the contract and the in-memory layer) imports only the standard
//     library, protocol/asgi and itself; only channels/redis imports a Redis client,
//     and only the root package asgo and cmd/... import channels/redis;
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
	if strings.HasPrefix(imp, "github.com/prometheus/") && !under(importer, "metrics") {
		return "only metrics imports the Prometheus client"
	}
	if isRedisClient(imp) && importer != "" && !under(importer, "cmd") && !under(importer, "channels/redis") {
		return "only channels/redis, the root package and cmd import a Redis client"
	}
	if !ours {
		nonStd := strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
		if under(importer, "channels") && !under(importer, "channels/redis") && nonStd {
			return "the channels contract is standard library only"
		}
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
	case under(target, "channels/redis") && importer != "" && !under(importer, "cmd") && !under(importer, "channels/redis"):
		return "only the root package and cmd import channels/redis"
	case under(importer, "channels") && !under(importer, "channels/redis"):
		if !under(target, "protocol/asgi") && !under(target, "channels") {
			return "channels imports only protocol/asgi"
		}
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
		if !under(target, "protocol/asgi") && !under(target, "lifespan") && !under(target, "apps") && !under(target, "channels") {
			return "apps import only the contract, lifespan, the channels contract and other apps"
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

// isRedisClient reports whether imp is a Redis client package.
func isRedisClient(imp string) bool {
	return strings.HasPrefix(imp, "github.com/redis/") || strings.HasPrefix(imp, "github.com/go-redis/") ||
		strings.HasPrefix(imp, "github.com/gomodule/redigo")
}
