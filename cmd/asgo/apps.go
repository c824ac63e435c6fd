package main

import (
	"github.com/asgo-dev/asgo/apps/demo"
	"github.com/asgo-dev/asgo/apps/hello"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// builtinApps are the apps `asgo serve --app NAME` can serve. The demo's WSGI-style
// handler follows the --wsgi-* flags through wsgi.SetDefaults.
var builtinApps = map[string]func() (asgi.App, error){
	"demo":  func() (asgi.App, error) { return demo.New(), nil },
	"hello": func() (asgi.App, error) { return hello.App, nil },
}
