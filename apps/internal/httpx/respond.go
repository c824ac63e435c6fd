package httpx

import (
	"context"
	"strconv"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Header names and values used by the reference apps, built once.
var (
	NameContentType   = []byte("content-type")
	NameContentLength = []byte("content-length")
	NameAllow         = []byte("allow")
	TextPlain         = []byte("text/plain; charset=utf-8")
	OctetStream       = []byte("application/octet-stream")
	ApplicationJSON   = []byte("application/json")
)

// Text sends a complete text/plain response with status, body and a content-length,
// plus the extra header fields given. It allocates the header list; it is meant for
// error responses and other cold paths. Safe for concurrent use; body is not retained.
func Text(ctx context.Context, send asgi.Send, status int, body string, extra ...asgi.HeaderField) error {
	headers := make(asgi.Headers, 0, 2+len(extra))
	headers = append(headers,
		asgi.HeaderField{Name: NameContentType, Value: TextPlain},
		asgi.HeaderField{Name: NameContentLength, Value: strconv.AppendInt(nil, int64(len(body)), 10)},
	)
	headers = append(headers, extra...)
	return Full(ctx, send, status, headers, []byte(body))
}

// Full sends http.response.start with status and headers, then body as the one and
// only http.response.body message. Nothing is retained after it returns.
func Full(ctx context.Context, send asgi.Send, status int, headers asgi.Headers, body []byte) error {
	if err := send(ctx, &asgi.HTTPResponseStart{Status: status, Headers: headers}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: body})
}

// NotFound answers 404 Not Found.
func NotFound(ctx context.Context, send asgi.Send) error {
	return Text(ctx, send, 404, "Not Found\n")
}

// MethodNotAllowed answers 405 Method Not Allowed with allow (for example
// "GET, HEAD") as the Allow header.
func MethodNotAllowed(ctx context.Context, send asgi.Send, allow []byte) error {
	return Text(ctx, send, 405, "Method Not Allowed\n", asgi.HeaderField{Name: NameAllow, Value: allow})
}

// BadRequest answers 400 Bad Request with msg (a line of text) as the body.
func BadRequest(ctx context.Context, send asgi.Send, msg string) error {
	return Text(ctx, send, 400, msg+"\n")
}

// RefuseWebSocket closes a WebSocket scope before accepting it; servers answer the
// handshake with 403, as ASGI specifies for websocket.close before websocket.accept.
func RefuseWebSocket(ctx context.Context, send asgi.Send) error {
	return send(ctx, &asgi.WebSocketClose{Code: 1000})
}
