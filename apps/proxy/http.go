package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

var (
	errHeadTimeout = errors.New("proxy: no response head in time")
	errClientGone  = errors.New("proxy: the client disconnected")
)

// body is the request body as the Transport reads it: one http.request message at a
// time, received only when the Transport asks for more (backpressure). It starts the
// head timer once the body ended.
type body struct {
	ctx     context.Context
	receive asgi.Receive
	buf     []byte
	more    bool
	read    atomic.Bool // some bytes went to the Transport: the request cannot be retried
	ended   func()
}

// Read is called by one goroutine of the Transport at a time.
func (b *body) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if !b.more {
			b.ended()
			return 0, io.EOF
		}
		msg, err := b.receive(b.ctx)
		if err != nil {
			return 0, err
		}
		switch m := msg.(type) {
		case *asgi.HTTPRequest:
			b.buf, b.more = m.Body, m.MoreBody
		default:
			return 0, errClientGone
		}
	}
	b.read.Store(true)
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// Close does nothing: the Transport closes the body after a failed attempt, and the
// request may be retried on another upstream.
func (b *body) Close() error { return nil }

func (b *body) consumed() bool { return b.read.Load() }

func (p *Proxy) serveHTTP(ctx context.Context, s *asgi.HTTPScope, receive asgi.Receive, send asgi.Send) error {
	// The first message tells whether there is a body at all.
	msg, err := receive(ctx)
	if err != nil {
		return err
	}
	first, ok := msg.(*asgi.HTTPRequest)
	if !ok {
		return nil // the client is gone
	}
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var timer *time.Timer
	var timerOnce sync.Once
	startTimer := func() {
		timerOnce.Do(func() { timer = time.AfterFunc(p.cfg.HeadTimeout, func() { cancel(errHeadTimeout) }) })
	}
	b := &body{ctx: ctx, receive: receive, buf: first.Body, more: first.MoreBody, ended: startTimer}

	var resp *http.Response
	var up *upstream
	for attempt := 0; ; attempt++ {
		up = p.pick()
		req := p.request(reqCtx, s, up, b, first)
		if !first.MoreBody {
			startTimer()
		}
		resp, err = p.transport.RoundTrip(req)
		if err == nil {
			break
		}
		switch {
		case ctx.Err() != nil:
			return nil // the client is gone
		case errors.Is(err, errClientGone):
			return nil
		case context.Cause(reqCtx) == errHeadTimeout:
			p.markDown(up, errHeadTimeout)
			return respondError(ctx, send, 504, "Gateway Timeout: upstream "+up.base+" sent no response in "+p.cfg.HeadTimeout.String())
		}
		if dialError(err) {
			p.markDown(up, err)
			if attempt+1 < len(p.ups) && !b.consumed() {
				continue
			}
		}
		return respondError(ctx, send, 502, "Bad Gateway: upstream "+up.base+": "+reason(err))
	}
	timerOnce.Do(func() {}) // a head that came before the body ended stops the timer too
	if timer != nil {
		timer.Stop()
	}
	defer resp.Body.Close()
	return p.relayResponse(ctx, reqCtx, up, s, resp, send)
}

// request builds the upstream request for s.
func (p *Proxy) request(ctx context.Context, s *asgi.HTTPScope, up *upstream, b *body, first *asgi.HTTPRequest) *http.Request {
	u := target(up.url, s.RootPath, s.Path, s.RawPath, s.QueryString)
	req := &http.Request{
		Method:     s.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, len(s.Headers)+4),
		Host:       up.url.Host,
	}
	connection := s.Headers.Values("connection")
	for _, f := range s.Headers {
		// Expect: 100-continue was the server's to answer; the body is here or on its way.
		if hopByHop(f.Name, connection) || asgi.EqualFold(f.Name, "host") || asgi.EqualFold(f.Name, "content-length") ||
			asgi.EqualFold(f.Name, "x-forwarded-for") || asgi.EqualFold(f.Name, "expect") {
			continue
		}
		k := http.CanonicalHeaderKey(string(f.Name))
		req.Header[k] = append(req.Header[k], string(f.Value))
	}
	if xff := forwardedFor(s.Headers, s.Client); xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	proto := s.Scheme
	if proto == "" {
		proto = "http"
	}
	req.Header.Set("X-Forwarded-Proto", proto)
	if h := originalHost(s.Headers, s.Server); h != "" {
		req.Header.Set("X-Forwarded-Host", h)
	}
	if s.RootPath != "" {
		req.Header.Set("X-Forwarded-Prefix", s.RootPath)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = []string{""} // not Go's default
	}
	switch {
	case !first.MoreBody && len(first.Body) == 0 && !s.Headers.Has("content-length") && !s.Headers.Has("transfer-encoding"):
		req.Body = http.NoBody
	case !first.MoreBody:
		req.Body, req.ContentLength = b, int64(len(first.Body))
	default:
		req.Body, req.ContentLength = b, -1
		if v := s.Headers.Get("content-length"); v != nil {
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil && n >= 0 {
				req.ContentLength = n
			}
		}
	}
	if req.Body == http.NoBody && s.Headers.Has("content-length") {
		req.ContentLength = 0
	}
	return req.WithContext(ctx)
}

// relayResponse sends the upstream's head and streams its body, one message per read.
func (p *Proxy) relayResponse(ctx, reqCtx context.Context, up *upstream, s *asgi.HTTPScope, resp *http.Response, send asgi.Send) error {
	connection := make([][]byte, 0, 1)
	for _, v := range resp.Header.Values("Connection") {
		connection = append(connection, []byte(v))
	}
	headers := make(asgi.Headers, 0, len(resp.Header)+1)
	for k, vs := range resp.Header {
		name := []byte(strings.ToLower(k))
		if hopByHop(name, connection) {
			continue
		}
		for _, v := range vs {
			headers = append(headers, asgi.HeaderField{Name: name, Value: []byte(v)})
		}
	}
	if resp.ContentLength >= 0 && !resp.Uncompressed && resp.Header.Get("Content-Length") == "" && s.Method != "HEAD" &&
		resp.StatusCode >= 200 && resp.StatusCode != 204 && resp.StatusCode != 304 {
		headers = append(headers, asgi.HeaderField{Name: []byte("content-length"), Value: strconv.AppendInt(nil, resp.ContentLength, 10)})
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: resp.StatusCode, Headers: headers}); err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	msg := &asgi.HTTPResponseBody{MoreBody: true}
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			msg.Body = buf[:n]
			if serr := send(ctx, msg); serr != nil {
				return serr
			}
		}
		if err == io.EOF {
			msg.Body, msg.MoreBody = nil, false
			return send(ctx, msg)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // the client is gone
			}
			if context.Cause(reqCtx) == errHeadTimeout {
				err = errHeadTimeout
			}
			p.log.Warn("proxy: upstream failed mid-body", "upstream", up.base, "path", s.Path, "err", err)
			return fmt.Errorf("proxy: upstream %s failed mid-body: %w", up.base, err)
		}
	}
}

// dialError reports whether err is a failure to connect.
func dialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// reason returns err's message without net/http's wrapping of the method and URL.
func reason(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner
		}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return "connection closed before the response head"
	}
	return err.Error()
}
