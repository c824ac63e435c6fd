package asgi_test

import (
	"context"
	"fmt"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// An app is a function of a scope, a receive and a send. This one echoes the request
// body, which arrives as http.request messages until MoreBody is false.
func ExampleAppFunc() {
	echo := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		s, ok := scope.(*asgi.HTTPScope)
		if !ok {
			return nil // lifespan, WebSocket: not served here
		}
		var body []byte
		for {
			msg, err := receive(ctx)
			if err != nil {
				return err
			}
			req, ok := msg.(*asgi.HTTPRequest)
			if !ok {
				return nil // http.disconnect: the client left
			}
			body = append(body, req.Body...)
			if !req.MoreBody {
				break
			}
		}
		err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain")})
		if err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: fmt.Appendf(nil, "%s %s: %s", s.Method, s.Path, body)})
	})

	// asgitest runs the app without a server.
	resp, err := asgitest.Call(context.Background(), echo, "POST", "/echo", []byte("ping"))
	fmt.Println(resp.Status, string(resp.Headers.Get("content-type")), string(resp.Body), err)
	// Output: 200 text/plain POST /echo: ping <nil>
}
