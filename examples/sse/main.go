// Command sse serves server-sent events (text/event-stream): one event per
// http.response.body message with MoreBody set, produced until the client leaves.
//
//	go run ./examples/sse --bind 127.0.0.1:8000
//	curl -N 'http://127.0.0.1:8000/events?interval=500ms'
//	curl http://127.0.0.1:8000/stats
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/apps/router"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// counters are reported by /stats.
var (
	streamsOpen    atomic.Int64 // event streams producing now
	streamsStopped atomic.Int64 // event streams that ended, for whatever reason
	eventsSent     atomic.Int64
)

// events streams "tick" events every ?interval= (default 1s), ?n= of them (default 0:
// until the client leaves). It stops producing as soon as the client is gone, whichever
// way the server tells it first:
//
//   - receive returns http.disconnect (a goroutine waits for it once the request body
//     has been read: this is how any ASGI app learns it);
//   - ctx is cancelled (asgo cancels it when the connection or stream is gone);
//   - send returns asgi.ErrDisconnected.
func events(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	q, _ := url.ParseQuery(string(scope.(*asgi.HTTPScope).QueryString))
	interval, err := time.ParseDuration(q.Get("interval"))
	if err != nil || interval < 10*time.Millisecond {
		interval = time.Second
	}
	n, _ := strconv.Atoi(q.Get("n"))

	// Read the (empty) request body; after it, the next message is http.disconnect.
	for more := true; more; {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		req, ok := msg.(*asgi.HTTPRequest)
		if !ok {
			return nil // gone before we started
		}
		more = req.MoreBody
	}
	gone := make(chan struct{})
	go func() { // the only reader of receive from now on; it ends with ctx
		defer close(gone)
		for {
			msg, err := receive(ctx)
			if err != nil {
				return
			}
			if _, ok := msg.(*asgi.HTTPDisconnect); ok {
				return
			}
		}
	}()

	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H(
		"content-type", "text/event-stream",
		"cache-control", "no-cache",
	)}); err != nil {
		return err
	}
	streamsOpen.Add(1)
	sent, reason := 0, "done"
	defer func() {
		streamsOpen.Add(-1)
		streamsStopped.Add(1)
		slog.Info("event stream stopped", "reason", reason, "events", sent)
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n == 0 || sent < n {
		ev := fmt.Appendf(nil, "id: %d\nevent: tick\ndata: %s\n\n", sent+1, time.Now().UTC().Format(time.RFC3339Nano))
		if err := send(ctx, &asgi.HTTPResponseBody{Body: ev, MoreBody: true}); err != nil {
			reason = "send failed: " + err.Error()
			return nil // asgi.ErrDisconnected: nobody to report an error to
		}
		sent++
		eventsSent.Add(1)
		select {
		case <-tick.C:
		case <-gone:
			reason = "client disconnected"
			return nil
		case <-ctx.Done():
			reason = "context done"
			return nil
		}
	}
	return send(ctx, &asgi.HTTPResponseBody{}) // n events sent: end the response
}

// stats reports the counters as JSON.
func stats(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	body, _ := json.Marshal(map[string]int64{
		"open":    streamsOpen.Load(),
		"stopped": streamsStopped.Load(),
		"events":  eventsSent.Load(),
	})
	body = append(body, '\n')
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H(
		"content-type", "application/json", "content-length", strconv.Itoa(len(body)))}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: body})
}

func main() {
	asgo.Run(router.New().
		Route([]string{"GET"}, "/events", asgi.AppFunc(events)).
		Route([]string{"GET"}, "/stats", asgi.AppFunc(stats)))
}
