package main

import (
	"fmt"
	"sort"

	"github.com/asgo-dev/asgo/apps/demo"
	"github.com/asgo-dev/asgo/apps/hello"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// builtinApps are the apps `asgo serve --app NAME` can serve.
var builtinApps = map[string]func(serveOptions) (asgi.App, error){
	"demo":  func(o serveOptions) (asgi.App, error) { return demo.NewWith(o.demo), nil },
	"hello": func(serveOptions) (asgi.App, error) { return hello.App, nil },
}

func appNames() []string {
	names := make([]string, 0, len(builtinApps))
	for n := range builtinApps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func buildApp(o serveOptions) (asgi.App, error) {
	build, ok := builtinApps[o.app]
	if !ok {
		return nil, fmt.Errorf("unknown app %q (built-in apps: %v)", o.app, appNames())
	}
	return build(o)
}
