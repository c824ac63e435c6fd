package testserver

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

func TestStartServesAndLogs(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte("hi")})
	})
	srv := Start(t, eventloop.Config{}, app)
	if !strings.HasPrefix(srv.Addr, "127.0.0.1:") || strings.HasSuffix(srv.Addr, ":0") {
		t.Fatalf("address %q, want a free port on 127.0.0.1", srv.Addr)
	}
	resp, err := http.Get(srv.URL("/"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "hi" {
		t.Fatalf("body %q, %v", b, err)
	}
	if !strings.Contains(srv.Logs.String(), "listening") {
		t.Fatalf("no listening line in the log:\n%s", srv.Logs)
	}
}
