package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// failingStartup is an app whose lifespan startup fails with a message.
var failingStartup = asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if _, ok := scope.(*asgi.LifespanScope); !ok {
		return nil
	}
	if _, err := receive(ctx); err != nil {
		return err
	}
	return send(ctx, &asgi.LifespanStartupFailed{Message: "database unreachable"})
})

func TestStartupFailureExitsNonZeroWithMessage(t *testing.T) {
	builtinApps["failing-startup"] = func(serveOptions) (asgi.App, error) { return failingStartup, nil }
	defer delete(builtinApps, "failing-startup")
	var stderr bytes.Buffer
	code := run([]string{"serve", "--app", "failing-startup", "--bind", "127.0.0.1:0"}, &stderr, &stderr)
	if code == 0 {
		t.Fatal("startup failure exited 0")
	}
	if !strings.Contains(stderr.String(), "database unreachable") {
		t.Fatalf("the app's message is not in the output:\n%s", stderr.String())
	}
}
