package compress

import (
	"context"
	"math"
	"sync"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Response states.
const (
	stStart    = iota // before http.response.start
	stPass            // passing every message through
	stHold            // start held, compression not decided yet (body may be buffered)
	stCompress        // compressing; start sent
	stDone            // compressed body complete; trailers pass through
)

var (
	nameVary            = []byte("vary")
	nameContentEncoding = []byte("content-encoding")
	acceptEncoding      = []byte("Accept-Encoding")
	weakPrefix          = []byte("W/")
)

// response is the state of one HTTP response. It is pooled with its buffers; sendFn is
// bound once, so a request costs no allocation for the wrapper.
type response struct {
	c           *Compressor
	next        asgi.Send
	codec       *codec // negotiated; nil: identity
	streamCodec *codec // for a streaming type: stateless gzip when accepted, else codec
	sendFn      asgi.Send

	mu        sync.Mutex
	state     int
	streaming bool // a streaming media type: compress from the first message
	sized     bool // Content-Length said the body is at least MinSize

	held    asgi.HTTPResponseStart // the held start, its headers copied into hbuf
	hbuf    []byte
	hdrs    asgi.Headers
	out     asgi.HTTPResponseStart // the start sent on, headers built in ohdrs/obuf
	ohdrs   asgi.Headers
	obuf    []byte
	pending []byte // body buffered while undecided
	enc     encoder
	sink    sink
	body    asgi.HTTPResponseBody
}

// sink collects an encoder's output for the next body message.
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

var responses = sync.Pool{New: func() any {
	r := &response{}
	r.sendFn = r.send
	return r
}}

func getResponse() *response { return responses.Get().(*response) }

// maxKeep is the largest buffer a pooled response keeps.
const maxKeep = 64 << 10

func putResponse(r *response) {
	r.c, r.next, r.codec, r.streamCodec = nil, nil, nil, nil
	r.state, r.streaming, r.sized = stStart, false, false
	r.held, r.out = asgi.HTTPResponseStart{}, asgi.HTTPResponseStart{}
	r.hbuf, r.obuf, r.pending, r.sink.b = keep(r.hbuf), keep(r.obuf), keep(r.pending), keep(r.sink.b)
	clear(r.hdrs)
	clear(r.ohdrs)
	r.hdrs, r.ohdrs = r.hdrs[:0], r.ohdrs[:0]
	responses.Put(r)
}

func keep(b []byte) []byte {
	if cap(b) > maxKeep {
		return nil
	}
	return b[:0]
}

// finish ends the response when the app returned: the encoder goes back to its pool;
// a start still held (the app returned in the middle of a body it had not finished)
// is sent on uncompressed with what was buffered, so the server sees what the app did.
func (r *response) finish(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == stHold && err == nil {
		r.state = stPass
		if r.next(ctx, r.plainStart()) == nil && len(r.pending) > 0 {
			_ = r.next(ctx, &asgi.HTTPResponseBody{Body: r.pending, MoreBody: true})
		}
	}
	r.release()
	r.state = stDone
}

func (r *response) release() {
	if r.enc != nil {
		r.codec.put(r.enc)
		r.enc = nil
	}
}

// send is the Send handed to the app.
func (r *response) send(ctx context.Context, msg asgi.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case stStart:
		if m, ok := msg.(*asgi.HTTPResponseStart); ok {
			return r.start(ctx, m)
		}
	case stHold:
		switch m := msg.(type) {
		case *asgi.HTTPResponseBody:
			return r.decide(ctx, m)
		case *asgi.HTTPResponsePathsend:
			r.state = stPass
			if err := r.next(ctx, r.plainStart()); err != nil {
				return err
			}
		}
	case stCompress:
		if m, ok := msg.(*asgi.HTTPResponseBody); ok {
			return r.compress(ctx, m.Body, m.MoreBody)
		}
	}
	return r.next(ctx, msg)
}

// start classifies the response: passed through as is, passed with Vary, or held until
// the first body message decides.
func (r *response) start(ctx context.Context, m *asgi.HTTPResponseStart) error {
	c := r.c
	r.state = stPass
	switch m.Status {
	case 204, 206, 304:
		return r.next(ctx, m)
	}
	if m.Status < 200 {
		return r.next(ctx, m)
	}
	var ct []byte
	clen := int64(-1)
	for i := range m.Headers {
		f := &m.Headers[i]
		switch len(f.Name) { // the length first: most names are none of these
		case len("content-encoding"):
			if asgi.EqualFold(f.Name, "content-encoding") {
				return r.next(ctx, m)
			}
		case len("content-range"): // and len("cache-control")
			if asgi.EqualFold(f.Name, "content-range") ||
				asgi.EqualFold(f.Name, "cache-control") && containsToken(f.Value, "no-transform") {
				return r.next(ctx, m)
			}
		case len("content-type"):
			if asgi.EqualFold(f.Name, "content-type") {
				ct = f.Value
			}
		case len("content-length"):
			if asgi.EqualFold(f.Name, "content-length") {
				if n, err := httpx.ParseUint(trim(f.Value), math.MaxInt64); err == nil {
					clen = n
				}
			}
		}
	}
	if ct == nil || !matches(c.types, ct) || clen >= 0 && clen < int64(c.min) {
		// A declared length under the minimum is never compressed, whatever the client
		// accepts, so the response does not vary by Accept-Encoding (as nginx's gzip):
		// no Vary, and no copy of the headers to add one (the hello's hot path).
		return r.next(ctx, m)
	}
	if r.codec == nil {
		return r.next(ctx, r.withVary(m))
	}
	// Hold the start (a copy: the app may reuse its buffers once send returns).
	r.state = stHold
	r.sized = clen >= 0
	r.streaming = matches(c.streaming, ct)
	if r.streaming {
		// A stream lasts as long as its connection: an encoder kept for it holds 0.5-1.5
		// MiB, stateless gzip nothing between messages.
		r.codec = r.streamCodec
	}
	r.held = asgi.HTTPResponseStart{Status: m.Status, Trailers: m.Trailers, Headers: r.copyHeaders(m.Headers)}
	return nil
}

// decide handles the first body message(s) of a held response.
func (r *response) decide(ctx context.Context, m *asgi.HTTPResponseBody) error {
	total := len(r.pending) + len(m.Body)
	switch {
	case r.sized, total >= r.c.min, m.MoreBody && r.streaming:
	case m.MoreBody:
		r.pending = append(r.pending, m.Body...)
		return nil
	default: // the body ended below the minimum
		r.state = stPass
		if err := r.next(ctx, r.plainStart()); err != nil {
			return err
		}
		if len(r.pending) == 0 {
			return r.next(ctx, m)
		}
		r.pending = append(r.pending, m.Body...)
		r.body = asgi.HTTPResponseBody{Body: r.pending}
		return r.next(ctx, &r.body)
	}
	r.state = stCompress
	if err := r.next(ctx, r.compressedStart()); err != nil {
		return err
	}
	r.enc = r.codec.get(&r.sink)
	if len(r.pending) > 0 {
		if _, err := r.enc.Write(r.pending); err != nil {
			return err
		}
	}
	return r.compress(ctx, m.Body, m.MoreBody)
}

// compress writes body to the encoder and sends what it produced: flushed when more
// follows, closed at the end.
func (r *response) compress(ctx context.Context, body []byte, more bool) error {
	if more && len(body) == 0 && len(r.sink.b) == 0 {
		return nil
	}
	if len(body) > 0 {
		if _, err := r.enc.Write(body); err != nil {
			return err
		}
	}
	var err error
	if more {
		err = r.enc.Flush()
	} else {
		err = r.enc.Close()
		r.release()
		r.state = stDone
	}
	if err != nil {
		return err
	}
	r.body = asgi.HTTPResponseBody{Body: r.sink.b, MoreBody: more}
	err = r.next(ctx, &r.body)
	r.sink.b = r.sink.b[:0]
	r.body.Body = nil
	return err
}

// copyHeaders copies h into the response's own buffers.
func (r *response) copyHeaders(h asgi.Headers) asgi.Headers {
	n := 0
	for i := range h {
		n += len(h[i].Name) + len(h[i].Value)
	}
	if cap(r.hbuf) < n {
		r.hbuf = make([]byte, 0, n)
	}
	buf := r.hbuf[:0]
	out := r.hdrs[:0]
	for i := range h {
		s := len(buf)
		buf = append(buf, h[i].Name...)
		name := buf[s:len(buf):len(buf)]
		s = len(buf)
		buf = append(buf, h[i].Value...)
		out = append(out, asgi.HeaderField{Name: name, Value: buf[s:len(buf):len(buf)]})
	}
	r.hbuf, r.hdrs = buf, out
	return out
}

// plainStart is the held start with Vary added.
func (r *response) plainStart() *asgi.HTTPResponseStart {
	return r.withVary(&r.held)
}

// withVary returns m with Accept-Encoding added to Vary (built in the response's
// buffers; m is not changed), or m itself when Vary already covers it.
func (r *response) withVary(m *asgi.HTTPResponseStart) *asgi.HTTPResponseStart {
	r.build(m, false)
	return &r.out
}

// compressedStart is the held start as sent with compression: Content-Encoding added,
// Content-Length and Accept-Ranges dropped, a strong ETag made weak, Vary extended.
func (r *response) compressedStart() *asgi.HTTPResponseStart {
	r.build(&r.held, true)
	return &r.out
}

func (r *response) build(m *asgi.HTTPResponseStart, compressed bool) {
	n := len(acceptEncoding) + 2
	varyDone := false // a Vary field covers Accept-Encoding already, or one was extended
	for i := range m.Headers {
		if f := &m.Headers[i]; asgi.EqualFold(f.Name, "vary") || asgi.EqualFold(f.Name, "etag") {
			n += len(f.Value) + 2
			if asgi.EqualFold(f.Name, "vary") && (containsToken(f.Value, "accept-encoding") || containsToken(f.Value, "*")) {
				varyDone = true
			}
		}
	}
	if cap(r.obuf) < n {
		r.obuf = make([]byte, 0, n)
	}
	buf := r.obuf[:0]
	out := r.ohdrs[:0]
	for _, f := range m.Headers {
		switch {
		case compressed && (asgi.EqualFold(f.Name, "content-length") || asgi.EqualFold(f.Name, "accept-ranges")):
			continue
		case compressed && asgi.EqualFold(f.Name, "etag") && !hasPrefix(f.Value, weakPrefix) && len(f.Value) > 0:
			s := len(buf)
			buf = append(append(buf, weakPrefix...), f.Value...)
			f.Value = buf[s:len(buf):len(buf)]
		case asgi.EqualFold(f.Name, "vary") && !varyDone:
			varyDone = true
			s := len(buf)
			if len(trim(f.Value)) > 0 {
				buf = append(append(buf, f.Value...), ", "...)
			}
			buf = append(buf, acceptEncoding...)
			f.Value = buf[s:len(buf):len(buf)]
		}
		out = append(out, f)
	}
	if !varyDone {
		out = append(out, asgi.HeaderField{Name: nameVary, Value: acceptEncoding})
	}
	if compressed {
		out = append(out, asgi.HeaderField{Name: nameContentEncoding, Value: r.codec.value})
	}
	r.obuf, r.ohdrs = buf, out
	r.out = asgi.HTTPResponseStart{Status: m.Status, Trailers: m.Trailers, Headers: out}
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }

// containsToken reports whether the comma-separated list v holds token
// (case-insensitive).
func containsToken(v []byte, token string) bool {
	for len(v) > 0 {
		var e []byte
		if i := indexByte(v, ','); i >= 0 {
			e, v = v[:i], v[i+1:]
		} else {
			e, v = v, nil
		}
		if asgi.EqualFold(trim(e), token) {
			return true
		}
	}
	return false
}
