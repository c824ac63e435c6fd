package main

import (
	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/demo"
	"github.com/asgo-dev/asgo/apps/hello"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// builtinApps are the apps `asgo serve --app NAME` can serve. The demo's WSGI-style
// handler follows the --wsgi-* flags through wsgi.SetDefaults.
var builtinApps = map[string]func() (asgi.App, error){
	"demo":  demoApp,
	"hello": func() (asgi.App, error) { return hello.App, nil },
	// hello-goroutine is hello run off the event loop, on a goroutine per request.
	"hello-goroutine": func() (asgi.App, error) { return hello.Goroutine, nil },
}

// demoCompression is the demo's own response compression (--compress adds more around
// it; responses it compressed already are passed through). text/plain counts as a
// streaming type here, so /stream's lines still arrive one by one in a browser instead
// of being held until 256 bytes. `--app hello` serves without compression.
var demoCompression = compress.Config{
	Encodings:      []string{"br", "gzip"},
	StreamingTypes: append([]string{"text/plain"}, compress.DefaultStreamingTypes...),
}

func demoApp() (asgi.App, error) { return compress.New(demo.New(), demoCompression) }
