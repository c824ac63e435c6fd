package asgo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

func hello(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if _, ok := scope.(*asgi.HTTPScope); !ok {
		return nil // no lifespan, no WebSocket
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain")}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte("Hello from Serve\n")})
}

// Serve an app on a free port until a context is cancelled.
func ExampleServe() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready := make(chan net.Addr, 1)
	cfg := asgo.Config{
		Server: eventloop.Config{
			GracefulTimeout: 5 * time.Second,         // bounds the drain
			Binds:           []string{"127.0.0.1:0"}, // port 0: any free port
			Loops:           1,
			Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
		OnReady: func(addrs []net.Addr) { ready <- addrs[0] },
	}
	served := make(chan error, 1)
	go func() { served <- asgo.Serve(ctx, asgi.AppFunc(hello), cfg) }()

	addr := <-ready
	resp, err := http.Get("http://" + addr.String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(resp.Status, ": ", string(body))

	stop() // drain, run the lifespan shutdown, return
	fmt.Println("Serve returned:", <-served)
	// Output:
	// 200 OK: Hello from Serve
	// Serve returned: <nil>
}

// Run is the whole main of a program: it parses the flags of `asgo serve` (except
// --app), serves, drains on SIGTERM or SIGINT and exits.
func ExampleRun() {
	app := asgi.AppFunc(hello)
	asgo.Run(app) // does not return
}
