// Package asgitest helps test asgi.Apps without a server: a scripted Receive, a Recorder
// whose Send records messages and checks the ASGI order, and Call, which runs an app on
// a request and returns what it sent.
package asgitest

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Script returns a Receive that yields msgs in order and then, forever, final (for
// example &asgi.HTTPDisconnect{}). When final is nil it blocks until ctx is done after
// the script ran out. Safe for use by one goroutine.
func Script(final asgi.Message, msgs ...asgi.Message) asgi.Receive {
	var mu sync.Mutex
	i := 0
	return func(ctx context.Context) (asgi.Message, error) {
		mu.Lock()
		if i < len(msgs) {
			m := msgs[i]
			i++
			mu.Unlock()
			return m, nil
		}
		mu.Unlock()
		if final != nil {
			return final, nil
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
}

// Body returns the http.request messages that deliver body in chunks of at most chunk
// bytes (chunk <= 0: one message). An empty body is one message with no bytes.
func Body(body []byte, chunk int) []asgi.Message {
	if chunk <= 0 || chunk > len(body) {
		chunk = len(body)
	}
	var out []asgi.Message
	for {
		n := min(chunk, len(body))
		out = append(out, &asgi.HTTPRequest{Body: body[:n], MoreBody: n < len(body)})
		body = body[n:]
		if len(body) == 0 {
			return out
		}
	}
}

// Recorder records sent messages and checks their order with the asgi state machines.
// Its Send is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	Messages []asgi.Message
	// Err is the first contract error seen, if any.
	Err   error
	http  asgi.HTTPResponseOrder
	ws    asgi.WebSocketOrder
	scope string
}

// NewRecorder returns a recorder checking the order for a scope of type scopeType
// ("http" or "websocket"; anything else records without checks).
func NewRecorder(scopeType string) *Recorder { return &Recorder{scope: scopeType} }

// Send records msg (a deep copy of byte slices) after checking the order.
func (r *Recorder) Send(_ context.Context, msg asgi.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	switch r.scope {
	case asgi.ScopeHTTP:
		err = r.http.Check(msg)
	case asgi.ScopeWebSocket:
		err = r.ws.Check(msg)
	}
	if err != nil {
		if r.Err == nil {
			r.Err = err
		}
		return err
	}
	r.Messages = append(r.Messages, clone(msg))
	return nil
}

func clone(msg asgi.Message) asgi.Message {
	switch m := msg.(type) {
	case *asgi.HTTPResponseStart:
		c := *m
		c.Headers = m.Headers.Clone()
		return &c
	case *asgi.HTTPResponseBody:
		c := *m
		c.Body = bytes.Clone(m.Body)
		return &c
	case *asgi.WebSocketSend:
		c := *m
		c.Data = bytes.Clone(m.Data)
		return &c
	case *asgi.HTTPResponseEarlyHint:
		c := *m
		c.Links = make([][]byte, len(m.Links))
		for i, l := range m.Links {
			c.Links[i] = bytes.Clone(l)
		}
		return &c
	}
	return msg
}

// Response summarises a recorded HTTP response.
type Response struct {
	Status   int
	Headers  asgi.Headers
	Body     []byte
	Trailers asgi.Headers
	// Complete is true when the app finished the response (more_body false).
	Complete bool
}

// Response assembles the recorded HTTP messages.
func (r *Recorder) Response() Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	var resp Response
	for _, m := range r.Messages {
		switch m := m.(type) {
		case *asgi.HTTPResponseStart:
			resp.Status, resp.Headers = m.Status, m.Headers
		case *asgi.HTTPResponseBody:
			resp.Body = append(resp.Body, m.Body...)
		case *asgi.HTTPResponseTrailers:
			resp.Trailers = append(resp.Trailers, m.Headers...)
		}
	}
	resp.Complete = r.http.State == asgi.HTTPResponseComplete
	return resp
}

// Call runs app on an HTTP request with the given method, path and body, delivered in
// one http.request message, and returns the recorded response and the app's error.
func Call(ctx context.Context, app asgi.App, method, path string, body []byte, headers ...string) (Response, error) {
	scope := NewHTTPScope(method, path, headers...)
	rec := NewRecorder(asgi.ScopeHTTP)
	err := app.ServeASGI(ctx, scope, Script(&asgi.HTTPDisconnect{}, Body(body, 0)...), rec.Send)
	if err == nil && rec.Err != nil {
		err = rec.Err
	}
	return rec.Response(), err
}

// NewHTTPScope returns an HTTP/1.1 scope for method and target (path with optional
// query), with headers given as alternating name, value strings.
func NewHTTPScope(method, target string, headers ...string) *asgi.HTTPScope {
	path, query, _ := bytes.Cut([]byte(target), []byte("?"))
	return &asgi.HTTPScope{
		ASGI:        asgi.DefaultInfo,
		HTTPVersion: "1.1",
		Method:      method,
		Scheme:      "http",
		Path:        string(path),
		RawPath:     path,
		QueryString: query,
		Headers:     asgi.H(headers...),
		Client:      &asgi.Addr{Host: "127.0.0.1", Port: 40000},
		Server:      &asgi.Addr{Host: "127.0.0.1", Port: 8000},
	}
}

// String renders the recorded message types, for test failure output.
func (r *Recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := ""
	for _, m := range r.Messages {
		s += fmt.Sprintf("%s ", m.Type())
	}
	return s
}
