package wsgi

import (
	"errors"
	"io"
	"os"
)

// Write is the write callable returned by StartResponse (PEP 3333's imperative output
// API). It sends the headers if they are not sent yet, then data, and returns when the
// server has taken the bytes (it blocks under backpressure). data is not retained. Write
// returns an error once the response is aborted or the client is gone. It must be called
// only from the goroutine running the handler.
type Write func(data []byte) error

// StartResponse is the start_response callable of PEP 3333. status is a status line such
// as "200 OK" (code, space, reason; the reason is not sent over HTTP/2). headers are
// (name, value) pairs; names must be tokens, values must not hold CR, LF or other control
// bytes, and hop-by-hop headers (Connection, Transfer-Encoding, ...) are refused.
//
// Calling it a second time is allowed only with a non-nil excInfo (the error being
// handled): before the headers were sent this replaces status and headers; after they
// were sent it aborts the response and returns an error wrapping excInfo, which the
// handler should return. It must be called only from the goroutine running the handler.
type StartResponse func(status string, headers [][2]string, excInfo error) (Write, error)

// Handler is a WSGI-style application. ServeWSGI is called once per request on a worker
// goroutine of the pool; it may block. It must call startResponse before the returned
// body yields its first non-empty chunk. A returned error (or a panic) is logged and
// answered with 500, or aborts the response when the headers were already sent.
type Handler interface {
	ServeWSGI(environ Environ, startResponse StartResponse) (Iterable, error)
}

// HandlerFunc adapts an ordinary function to the Handler interface.
type HandlerFunc func(environ Environ, startResponse StartResponse) (Iterable, error)

// ServeWSGI calls f(environ, startResponse).
func (f HandlerFunc) ServeWSGI(environ Environ, startResponse StartResponse) (Iterable, error) {
	return f(environ, startResponse)
}

// Iterable is a response body, PEP 3333's iterable of byte strings. Next returns the next
// chunk, or io.EOF after the last one; any other error ends the response like an error
// returned by the handler. Empty chunks are skipped. A chunk is valid until the next call
// of Next. If the body also implements io.Closer, Close is called exactly once when the
// adapter is done with it, whatever happened. Next and Close are called from one worker
// goroutine at a time.
type Iterable interface {
	Next() ([]byte, error)
}

// Bytes returns an Iterable yielding chunks in order. When the handler did not set a
// Content-Length, the adapter sets it to the total length, and the last chunk is sent
// with the end-of-body flag. The chunks are not copied.
func Bytes(chunks ...[]byte) Iterable {
	b := &bytesBody{}
	// Copying the chunk list keeps the variadic slice on the caller's stack: the common
	// single chunk then costs one allocation, not two.
	b.chunks = append(b.one[:0], chunks...)
	for _, c := range chunks {
		b.size += int64(len(c))
	}
	return b
}

// bytesBody is the Iterable returned by Bytes; the adapter knows its length.
type bytesBody struct {
	chunks [][]byte
	one    [1][]byte // chunks' storage for a single chunk
	i      int
	size   int64
}

func (b *bytesBody) Next() ([]byte, error) {
	if b.i >= len(b.chunks) {
		return nil, io.EOF
	}
	b.i++
	return b.chunks[b.i-1], nil
}

// rest reports whether any chunk is left.
func (b *bytesBody) rest() bool { return b.i < len(b.chunks) }

// Empty is an Iterable with no chunks (a body-less response).
func Empty() Iterable { return Bytes() }

// DefaultBlockSize is the block size of a FileWrapper when none is given.
const DefaultBlockSize = 64 << 10

// FileWrapperFunc is the type of the wsgi.file_wrapper environ key: it wraps an open file
// into a body the adapter can send without copying through the handler. blockSize <= 0
// means DefaultBlockSize.
type FileWrapperFunc func(f *os.File, blockSize int) Iterable

// FileWrapper is the body returned by wsgi.file_wrapper. The file is sent from its
// current offset to its end. When the server offers http.response.pathsend and the file
// is a regular file at offset 0 that can still be found under its name, the adapter asks
// the server to send the file by path; otherwise it reads and sends BlockSize bytes at a
// time. Close closes the file. Not safe for concurrent use.
type FileWrapper struct {
	File      *os.File
	BlockSize int
	buf       []byte
}

// NewFileWrapper returns a FileWrapper for f; it is the wsgi.file_wrapper callable.
func NewFileWrapper(f *os.File, blockSize int) Iterable {
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	return &FileWrapper{File: f, BlockSize: blockSize}
}

// Next reads the next block of the file; the block is valid until the next call.
func (w *FileWrapper) Next() ([]byte, error) {
	if w.buf == nil {
		w.buf = make([]byte, w.BlockSize)
	}
	n, err := io.ReadFull(w.File, w.buf)
	if n > 0 {
		return w.buf[:n], nil
	}
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return nil, err
}

// Close closes the file.
func (w *FileWrapper) Close() error { return w.File.Close() }

// Errors of the adapter. Each is returned (or logged) with the request it belongs to.
var (
	// ErrStartResponseTwice is returned by a second start_response call without exc_info.
	ErrStartResponseTwice = errors.New("wsgi: start_response called again without exc_info")
	// ErrNoStartResponse reports a handler whose body produced data, or which finished,
	// without calling start_response.
	ErrNoStartResponse = errors.New("wsgi: start_response was not called before the body")
	// ErrInvalidStatus reports a status that is not "NNN reason" with NNN in 200-599.
	ErrInvalidStatus = errors.New("wsgi: invalid status line")
	// ErrInvalidHeader reports a response header with a bad name or value, or a
	// hop-by-hop header, which PEP 3333 forbids to applications.
	ErrInvalidHeader = errors.New("wsgi: invalid response header")
	// ErrAborted is returned by Write and StartResponse after the response was aborted
	// (exc_info after the headers were sent, timeout, or client gone).
	ErrAborted = errors.New("wsgi: response aborted")
	// ErrTimeout is returned to the server (which aborts the connection) when a handler
	// exceeded Config.Timeout after its response had started.
	ErrTimeout = errors.New("wsgi: handler exceeded its timeout")
	// ErrClientDisconnected is returned by wsgi.input reads after the client went away.
	ErrClientDisconnected = errors.New("wsgi: client disconnected")
	// ErrPoolClosed is returned by Pool.TrySubmit after Close.
	ErrPoolClosed = errors.New("wsgi: worker pool closed")
	// ErrPoolFull is returned by Pool.TrySubmit when every worker is busy and the
	// queue is full; the adapter answers 503.
	ErrPoolFull = errors.New("wsgi: worker pool queue full")
	// ErrUnsupportedScope is returned for scopes other than http and websocket (a
	// lifespan scope): a WSGI handler has no lifespan.
	ErrUnsupportedScope = errors.New("wsgi: unsupported scope type")
)
