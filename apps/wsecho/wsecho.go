package wsecho

import (
	"context"
	"errors"
	"fmt"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Echo is the echo app. The zero value is ready to use and safe for concurrent use.
type Echo struct{}

// App is the echo app as an asgi.App.
var App asgi.App = Echo{}

var upgradeHeader = asgi.HeaderField{Name: []byte("upgrade"), Value: []byte("websocket")}

// ServeASGI echoes WebSocket messages. For HTTP scopes it answers 426; lifespan is not
// supported.
func (Echo) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch scope.(type) {
	case *asgi.WebSocketScope:
		return serve(ctx, receive, send)
	case *asgi.HTTPScope:
		return httpx.Text(ctx, send, 426, "WebSocket endpoint: connect with a WebSocket client\n", upgradeHeader)
	}
	return fmt.Errorf("wsecho: unsupported scope type %q", scope.Type())
}

// WebSocketHandler serves every WebSocket scope in event mode (asgi.WebSocketEventer):
// the echo needs no goroutine, and one handler serves every connection.
func (Echo) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler { return handler{} }

// handler is the event-mode echo: accept on connect, send every message back.
type handler struct{}

func (handler) HandleWebSocket(msg asgi.Message, send asgi.WebSocketSender) error {
	var err error
	switch m := msg.(type) {
	case *asgi.WebSocketConnect:
		err = send.SendNow(&asgi.WebSocketAccept{})
	case *asgi.WebSocketReceive:
		// The server pauses reading while the output is above its high-water mark,
		// so an echo on the loop never meets backpressure; the echo's frame is
		// encoded before HandleWebSocket returns, as Data requires.
		err = send.SendNow(&asgi.WebSocketSend{Data: m.Data, Text: m.Text})
	}
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}

// serve runs one connection: connect, accept, then echo until disconnect. A send that
// fails because the client left ends the connection normally.
func serve(ctx context.Context, receive asgi.Receive, send asgi.Send) error {
	if _, err := expectConnect(ctx, receive); err != nil {
		return err
	}
	if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
		return err
	}
	for {
		m, err := receive(ctx)
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *asgi.WebSocketReceive:
			err = send(ctx, &asgi.WebSocketSend{Data: m.Data, Text: m.Text})
			if errors.Is(err, asgi.ErrDisconnected) {
				return nil
			}
			if err != nil {
				return err
			}
		case *asgi.WebSocketDisconnect:
			return nil
		}
	}
}

// expectConnect reads the websocket.connect message that opens every WebSocket scope.
func expectConnect(ctx context.Context, receive asgi.Receive) (asgi.Message, error) {
	m, err := receive(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := m.(*asgi.WebSocketConnect); !ok {
		return nil, fmt.Errorf("wsecho: expected websocket.connect, got %s", m.Type())
	}
	return m, nil
}
