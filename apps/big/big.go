package big

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Limits and defaults of the bytes parameter.
const (
	DefaultBytes = 1 << 20 // 1 MiB when bytes is absent
	MaxBytes     = 1 << 40 // 1 TiB, the largest bytes accepted
	ChunkSize    = 64 << 10
)

// chunk is the shared payload. Send does not retain or modify message bodies, so every
// response of every request points into it.
var chunk = bytes.Repeat([]byte{'x'}, ChunkSize)

// Big is the large-response app. The zero value is ready and safe for concurrent use;
// App is the value to serve.
type Big struct{}

// App serves the large response.
var App asgi.App = Big{}

// ServeASGI sends bytes=N bytes; a bad N is a 400. HEAD gets the GET's headers
// (Content-Length N) and no body bytes. It returns nil when the client went
// away (asgi.ErrDisconnected from send) and ctx's error when ctx ended.
func (Big) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return fmt.Errorf("big: unsupported scope type %q", scope.Type())
	}
	n, err := size(s.QueryString)
	if err != nil {
		return httpx.BadRequest(ctx, send, "big: "+err.Error())
	}
	if s.Method == "HEAD" {
		err = head(ctx, send, n)
	} else {
		err = body(ctx, send, n)
	}
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}

func size(raw []byte) (int64, error) {
	q, err := httpx.ParseQuery(raw)
	if err != nil {
		return 0, err
	}
	return q.Int("bytes", DefaultBytes, MaxBytes)
}

// start is the response start of an n-byte body.
func start(n int64) *asgi.HTTPResponseStart {
	return &asgi.HTTPResponseStart{Status: 200, Headers: asgi.Headers{
		{Name: httpx.NameContentType, Value: httpx.OctetStream},
		{Name: httpx.NameContentLength, Value: strconv.AppendInt(nil, n, 10)},
	}}
}

// head answers HEAD: the start of an n-byte body, then an empty last body.
func head(ctx context.Context, send asgi.Send, n int64) error {
	if err := send(ctx, start(n)); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{})
}

// body sends the start and n bytes in ChunkSize messages; the last data message ends the
// response (an empty one when n is 0).
func body(ctx context.Context, send asgi.Send, n int64) error {
	if err := send(ctx, start(n)); err != nil {
		return err
	}
	msg := &asgi.HTTPResponseBody{}
	for {
		k := min(n, ChunkSize)
		n -= k
		msg.Body, msg.MoreBody = chunk[:k], n > 0
		if err := send(ctx, msg); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
