package eventloop

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

const fileChunk = 64 << 10

// lockForSend takes c.mu for a stream's send and checks msg against the stream's ASGI
// order. On error the lock is released again. streamGone and order are guarded by c.mu;
// ended is set before the call's end takes c.mu (h1Stream.end), so a send that gets the
// lock after the end is refused, whatever the order says: a detached app's late send
// never reaches the connection's next response.
func lockForSend(c *conn, streamGone *bool, ended *atomic.Bool, order *asgi.HTTPResponseOrder, msg asgi.Message) error {
	c.mu.Lock()
	if *streamGone || c.gone {
		c.mu.Unlock()
		return asgi.ErrDisconnected
	}
	if ended.Load() {
		c.mu.Unlock()
		return errSendAfterEnd
	}
	if err := order.Check(msg); err != nil {
		c.mu.Unlock()
		return err
	}
	return nil
}

// errSendAfterEnd refuses a send after the app's call ended (it returned, or detached).
var errSendAfterEnd = &asgi.ContractError{Msg: "ASGI callable sent a message after its call ended."}

// checkSend is lockForSend for a message that queues nothing itself: the lock is
// released again.
func checkSend(c *conn, streamGone *bool, ended *atomic.Bool, order *asgi.HTTPResponseOrder, msg asgi.Message) error {
	if err := lockForSend(c, streamGone, ended, order, msg); err != nil {
		return err
	}
	c.mu.Unlock()
	return nil
}

// httpStream is what the HTTP/1.1 and HTTP/2 streams (h1Stream, h2Stream) offer the
// response paths they share. Both methods are called on the app's goroutine (or on
// the loop for an inline app), without c.mu held.
type httpStream interface {
	// checkSend checks msg against the stream's response order, as send does for
	// every message; it fails with asgi.ErrDisconnected once the client is gone.
	checkSend(msg asgi.Message) error
	// writeBody frames and queues body bytes outside the order check (which the
	// message carrying them has passed), the last ones with last set, and applies
	// backpressure like send.
	writeBody(ctx context.Context, b []byte, last bool) error
}

// errInlineWouldBlock is what receive returns to an app running inline on the loop
// (asgi.Inliner) when it would have to wait for the body.
var errInlineWouldBlock = errors.New("eventloop: receive would block on the event loop; the app must not implement asgi.Inliner for this scope")
