package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// maxValue bounds a stored value.
const maxValue = 64 << 10

// store is a small key-value store over HTTP, with a WebSocket echo beside it:
//
//	PUT /kv/KEY    stores the request body (204), 413 above 64 KiB
//	GET /kv/KEY    returns it (200) or 404
//	/ws            WebSocket: echoes every text message in upper case
type store struct {
	mu     sync.Mutex
	values map[string][]byte
}

func newStore() *store { return &store{values: make(map[string][]byte)} }

func (s *store) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch sc := scope.(type) {
	case *asgi.HTTPScope:
		return s.serveHTTP(ctx, sc, receive, send)
	case *asgi.WebSocketScope:
		if sc.Path != "/ws" {
			return send(ctx, &asgi.WebSocketClose{}) // 403
		}
		return shout(ctx, receive, send)
	}
	return nil // no lifespan
}

func (s *store) serveHTTP(ctx context.Context, scope *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error {
	key, ok := strings.CutPrefix(scope.Path, "/kv/")
	if !ok || key == "" {
		return reply(ctx, send, 404, "not found\n")
	}
	switch scope.Method {
	case "GET":
		s.mu.Lock()
		v, ok := s.values[key]
		s.mu.Unlock()
		if !ok {
			return reply(ctx, send, 404, "no such key\n")
		}
		return reply(ctx, send, 200, string(v))
	case "PUT":
		body, complete, err := readBody(ctx, receive, maxValue)
		switch {
		case err != nil:
			return err
		case !complete:
			return nil // the client left: nothing to answer
		case len(body) > maxValue:
			return reply(ctx, send, 413, "value too large\n")
		}
		s.mu.Lock()
		s.values[key] = body // the body's bytes belong to the app: no copy needed
		s.mu.Unlock()
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 204}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{})
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 405, Headers: asgi.H("allow", "GET, PUT", "content-length", "0")}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{})
}

// readBody collects the http.request messages until MoreBody is false, or until more
// than limit bytes arrived. complete is false when the client left first.
func readBody(ctx context.Context, receive asgi.Receive, limit int) (body []byte, complete bool, err error) {
	for {
		msg, err := receive(ctx)
		if err != nil {
			return nil, false, err
		}
		req, ok := msg.(*asgi.HTTPRequest)
		if !ok {
			return nil, false, nil // http.disconnect
		}
		body = append(body, req.Body...)
		if !req.MoreBody || len(body) > limit {
			return body, true, nil
		}
	}
}

// shout accepts the WebSocket and echoes text messages in upper case until the client
// disconnects.
func shout(ctx context.Context, receive asgi.Receive, send asgi.Send) error {
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *asgi.WebSocketConnect:
			err = send(ctx, &asgi.WebSocketAccept{})
		case *asgi.WebSocketReceive:
			if !m.Text {
				return send(ctx, &asgi.WebSocketClose{Code: 1003, Reason: "text only"})
			}
			err = send(ctx, &asgi.WebSocketSend{Data: bytes.ToUpper(m.Data), Text: true})
		case *asgi.WebSocketDisconnect:
			return nil
		default:
			return fmt.Errorf("unexpected %s", msg.Type())
		}
		if err != nil {
			return err
		}
	}
}

func reply(ctx context.Context, send asgi.Send, status int, body string) error {
	err := send(ctx, &asgi.HTTPResponseStart{Status: status, Headers: asgi.H(
		"content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(body)))})
	if err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
}
