package wsgi

import (
	"fmt"
	"io"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Input is wsgi.input: the request body as it arrives. Each Read that finds nothing
// buffered asks the server for exactly one more http.request message, so the adapter
// never holds more than one message of the body and a slow reader holds the client back
// through the server's flow control. Read returns io.EOF after the last message and
// ErrClientDisconnected when the client went away first. The bytes returned belong to
// the caller. Not safe for concurrent use: read from the handler's goroutine.
type Input struct {
	c    *call
	buf  []byte
	more bool
	err  error
	n    int64
}

// Read reads up to len(p) bytes of the body.
func (in *Input) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(in.buf) == 0 {
		if in.err != nil {
			return 0, in.err
		}
		in.fill()
	}
	n := copy(p, in.buf)
	in.buf = in.buf[n:]
	in.n += int64(n)
	return n, nil
}

// BytesRead returns how many body bytes Read has returned so far.
func (in *Input) BytesRead() int64 { return in.n }

// fill receives the next message, or records the end of the body.
func (in *Input) fill() {
	if !in.more {
		in.err = io.EOF
		return
	}
	if in.c.ended.Load() {
		in.err = ErrAborted // the request is over: its exchange may serve another
		return
	}
	msg, err := in.c.x.receiveMsg()
	if err != nil {
		in.err = err
		return
	}
	switch m := msg.(type) {
	case *asgi.HTTPRequest:
		in.buf, in.more = m.Body, m.MoreBody
	case *asgi.HTTPDisconnect:
		in.err = ErrClientDisconnected
	default:
		in.err = fmt.Errorf("wsgi: unexpected message %q while reading the body", msg.Type())
	}
}
