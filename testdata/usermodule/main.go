// A program of another module that serves its own app with asgo.Run.
package main

import (
	"context"
	"errors"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

func app(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch scope.(type) {
	case *asgi.HTTPScope:
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte("served by my own app\n")})
	case *asgi.WebSocketScope:
		for {
			switch msg, err := receive(ctx); m := msg.(type) {
			case nil:
				return err
			case *asgi.WebSocketConnect:
				err = send(ctx, &asgi.WebSocketAccept{})
			case *asgi.WebSocketReceive:
				err = send(ctx, &asgi.WebSocketSend{Data: m.Data, Text: m.Text})
			default:
				return nil // disconnected
			}
		}
	}
	return errors.New("lifespan is not supported")
}

func main() { asgo.Run(asgi.AppFunc(app)) }
