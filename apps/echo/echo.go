package echo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// DefaultMaxCollect is the largest body echoed back when the request has no
// Content-Length: 256 MiB.
const DefaultMaxCollect = 256 << 20

// maxContentLength bounds the Content-Length values the app accepts (1 TiB): a value
// beyond it is a 400, never an overflow.
const maxContentLength = 1 << 40

// ErrShortBody is returned when the body ended before the bytes its Content-Length
// announced (or ran past them); the response has started, so the server aborts it.
var ErrShortBody = errors.New("echo: request body does not match its content-length")

// Config configures the echo app. The zero value is usable.
type Config struct {
	// MaxCollect caps a body that is held in memory whole before the response starts:
	// every body without Content-Length, and bodies with a Content-Length up to
	// StreamAbove. A larger body without Content-Length gets 413. If zero,
	// DefaultMaxCollect is used.
	MaxCollect int64
	// StreamAbove is the Content-Length beyond which the response starts before the
	// body is read and each chunk is echoed as it arrives (flat memory). Smaller bodies
	// are read whole first, because reverse proxies such as nginx stop sending a
	// request body once the response headers have arrived. If zero, MaxCollect is used.
	StreamAbove int64
}

// Echo echoes request bodies. Create it with New; it is safe for concurrent use.
type Echo struct {
	maxCollect  int64
	streamAbove int64
}

// New returns an echo app for cfg.
func New(cfg Config) *Echo {
	if cfg.MaxCollect <= 0 {
		cfg.MaxCollect = DefaultMaxCollect
	}
	if cfg.StreamAbove <= 0 {
		cfg.StreamAbove = cfg.MaxCollect
	}
	return &Echo{maxCollect: cfg.MaxCollect, streamAbove: cfg.StreamAbove}
}

// ServeASGI echoes the body of an HTTP request (any method; routing is the router's
// job). Other scope types are an error. If the client leaves mid-body the app returns
// nil: there is nobody to answer.
func (e *Echo) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return fmt.Errorf("echo: unsupported scope type %q", scope.Type())
	}
	ctype := s.Headers.Get("content-type")
	if ctype == nil || !asgi.ValidHeaderValue(ctype) {
		ctype = httpx.OctetStream
	}
	cl := s.Headers.Get("content-length")
	if cl == nil {
		return e.collect(ctx, ctype, -1, receive, send)
	}
	n, err := httpx.ParseUint(cl, maxContentLength)
	if err != nil {
		return httpx.BadRequest(ctx, send, "echo: bad content-length")
	}
	if n <= e.streamAbove {
		return e.collect(ctx, ctype, n, receive, send)
	}
	return stream(ctx, ctype, n, receive, send)
}

// Inline reports that HTTP requests may be served on the event loop: the app waits on
// nothing but receive, and servers run an app inline only once the body is complete.
func (e *Echo) Inline(scope asgi.Scope) bool {
	_, ok := scope.(*asgi.HTTPScope)
	return ok
}

// Recycles reports true: echo keeps nothing of a call once it returns (the body chunks
// it sent back are its own, not the scope's).
func (e *Echo) Recycles() bool { return true }

// RecyclesBody reports true for HTTP scopes: echo sends its chunks back before it
// returns, and Send keeps none of them.
func (e *Echo) RecyclesBody(scope asgi.Scope) bool {
	_, ok := scope.(*asgi.HTTPScope)
	return ok
}

// reply is one call's outbound messages and what they point to. Send retains no
// message once it returns, so a reply goes back to the pool when the call ends: echoing
// a body allocates nothing beyond the chunks the server handed over.
type reply struct {
	start   asgi.HTTPResponseStart
	body    asgi.HTTPResponseBody
	headers [2]asgi.HeaderField
	length  [20]byte
	parts   [4][]byte // room for the body's pieces (collect)
}

var replies = sync.Pool{New: func() any { return new(reply) }}

func getReply() *reply { return replies.Get().(*reply) }

// put returns r to the pool, holding no bytes of the call.
func (r *reply) put() {
	clear(r.parts[:]) // a longer list grown by append is dropped with its pieces
	r.start, r.body, r.headers = asgi.HTTPResponseStart{}, asgi.HTTPResponseBody{}, [2]asgi.HeaderField{}
	replies.Put(r)
}

// begin fills r.start: 200 with ctype and a Content-Length of n bytes.
func (r *reply) begin(ctype []byte, n int64) *asgi.HTTPResponseStart {
	r.headers = [2]asgi.HeaderField{
		{Name: httpx.NameContentType, Value: ctype},
		{Name: httpx.NameContentLength, Value: strconv.AppendInt(r.length[:0], n, 10)},
	}
	r.start = asgi.HTTPResponseStart{Status: 200, Headers: r.headers[:]}
	return &r.start
}

// stream starts the response with Content-Length n and forwards each chunk as it
// arrives.
func stream(ctx context.Context, ctype []byte, n int64, receive asgi.Receive, send asgi.Send) error {
	r := getReply()
	defer r.put()
	if err := send(ctx, r.begin(ctype, n)); err != nil {
		return err
	}
	out := &r.body
	var seen int64
	for {
		req, done, err := next(ctx, receive)
		if done || err != nil {
			return err
		}
		seen += int64(len(req.Body))
		if seen > n || !req.MoreBody && seen != n {
			return ErrShortBody
		}
		out.Body, out.MoreBody = req.Body, req.MoreBody
		if err := send(ctx, out); err != nil {
			return err
		}
		if !req.MoreBody {
			return nil
		}
	}
}

// minPart is the size consecutive smaller body pieces are merged up to before they are
// echoed: a body sent in small chunks must not cost one send per chunk.
const minPart = 64 << 10

// collect reads the whole body (at most e.maxCollect bytes) and sends it back. want is
// the request's Content-Length, or -1 when it has none. The body goes back in the
// pieces it arrived in, never copied into one buffer: a server may send a large piece
// straight from it.
func (e *Echo) collect(ctx context.Context, ctype []byte, want int64, receive asgi.Receive, send asgi.Send) error {
	r := getReply()
	defer r.put()
	parts := r.parts[:0]
	var total int64
	for {
		req, done, err := next(ctx, receive)
		if done || err != nil {
			return err
		}
		if total += int64(len(req.Body)); total > e.maxCollect {
			return httpx.Text(ctx, send, 413, "Content Too Large\n")
		}
		if n := len(parts); n > 0 && len(parts[n-1]) < minPart && len(req.Body) < minPart {
			parts[n-1] = append(parts[n-1], req.Body...)
		} else if len(req.Body) > 0 {
			parts = append(parts, req.Body)
		}
		if !req.MoreBody {
			break
		}
	}
	if want >= 0 && total != want {
		return ErrShortBody
	}
	if err := send(ctx, r.begin(ctype, total)); err != nil {
		return err
	}
	out := &r.body
	if len(parts) == 0 {
		return send(ctx, out)
	}
	for i, p := range parts {
		out.Body, out.MoreBody = p, i < len(parts)-1
		if err := send(ctx, out); err != nil {
			return err
		}
	}
	return nil
}

// next returns the next http.request. done is true when the client disconnected (the
// app just stops); any other message is a contract error.
func next(ctx context.Context, receive asgi.Receive) (req *asgi.HTTPRequest, done bool, err error) {
	msg, err := receive(ctx)
	if err != nil {
		return nil, false, err
	}
	switch m := msg.(type) {
	case *asgi.HTTPRequest:
		return m, false, nil
	case *asgi.HTTPDisconnect:
		return nil, true, nil
	}
	return nil, false, &asgi.ContractError{Msg: fmt.Sprintf("Expected ASGI message 'http.request' or 'http.disconnect', but got '%s'.", typeName(msg))}
}

func typeName(m asgi.Message) string {
	if m == nil {
		return "<nil>"
	}
	return m.Type()
}
