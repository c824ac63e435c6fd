package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Limits and defaults of the query parameters.
const (
	DefaultN = 10        // lines when n is absent
	MaxN     = 1_000_000 // largest n accepted
	MaxDelay = 60_000    // largest delay in milliseconds
)

// Stream is the streaming app. The zero value is ready and safe for concurrent use;
// App is the value to serve.
type Stream struct{}

// App serves the stream.
var App asgi.App = Stream{}

var start = &asgi.HTTPResponseStart{Status: 200, Headers: asgi.Headers{
	{Name: httpx.NameContentType, Value: httpx.TextPlain},
}}

// ServeASGI streams the lines the query asks for; a bad n or delay is a 400. HEAD gets
// the GET's status and headers at once, with no lines. It
// returns nil when the client went away (send reported asgi.ErrDisconnected), and
// ctx's error when ctx was cancelled during a sleep.
func (Stream) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return fmt.Errorf("stream: unsupported scope type %q", scope.Type())
	}
	n, delay, err := params(s.QueryString)
	if err != nil {
		return httpx.BadRequest(ctx, send, "stream: "+err.Error())
	}
	if s.Method == "HEAD" {
		n = 0 // the GET's status and headers, without the lines or their delays
	}
	err = lines(ctx, send, n, delay)
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}

// params parses n and delay from the raw query.
func params(raw []byte) (n int64, delay time.Duration, err error) {
	q, err := httpx.ParseQuery(raw)
	if err != nil {
		return 0, 0, err
	}
	if n, err = q.Int("n", DefaultN, MaxN); err != nil {
		return 0, 0, err
	}
	ms, err := q.Int("delay", 0, MaxDelay)
	return n, time.Duration(ms) * time.Millisecond, err
}

// lines sends the response: start, n lines delay apart, and the final empty message.
// One buffer and one message value serve every line, since send retains neither.
func lines(ctx context.Context, send asgi.Send, n int64, delay time.Duration) error {
	if err := send(ctx, start); err != nil {
		return err
	}
	var timer *time.Timer
	buf := make([]byte, 0, 32)
	msg := &asgi.HTTPResponseBody{MoreBody: true}
	for i := int64(0); i < n; i++ {
		if i > 0 && delay > 0 {
			if err := sleep(ctx, &timer, delay); err != nil {
				return err
			}
		}
		buf = append(strconv.AppendInt(append(buf[:0], "chunk "...), i, 10), '\n')
		msg.Body = buf
		if err := send(ctx, msg); err != nil {
			return err
		}
	}
	return send(ctx, &asgi.HTTPResponseBody{})
}

// sleep waits d or until ctx is done, reusing *timer across calls.
func sleep(ctx context.Context, timer **time.Timer, d time.Duration) error {
	if *timer == nil {
		*timer = time.NewTimer(d)
	} else {
		(*timer).Reset(d)
	}
	select {
	case <-(*timer).C:
		return nil
	case <-ctx.Done():
		(*timer).Stop()
		return ctx.Err()
	}
}
