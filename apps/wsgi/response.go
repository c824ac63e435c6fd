package wsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// response is the state of start_response and of the headers. Owned by the worker.
type response struct {
	status  int
	headers asgi.Headers
	set     bool  // start_response was called successfully
	sent    bool  // the start message was handed to the server
	aborted error // exc_info arrived after the headers were sent
}

// serve runs the handler and sends its body; it returns the error for ServeASGI.
func (x *exchange) serve() error {
	defer x.call.ended.Store(true)
	environ := newEnviron(&x.call.env, x.scope, &x.call.input, x.app.cfg.Errors, x.ctx)
	body, err := x.callHandler(environ)
	if err == nil && body == nil {
		body = Empty()
	}
	if err == nil {
		err = x.sendBody(body)
	}
	x.closeBody(body)
	if err == nil {
		err = x.resp.aborted
	}
	if err != nil {
		return x.fail(err)
	}
	return nil
}

func (x *exchange) callHandler(environ Environ) (body Iterable, err error) {
	defer recoverInto(&err)
	return x.app.handler.ServeWSGI(environ, x.call.startFn)
}

// closeBody calls the body's Close, if any; its error or panic is logged only, since
// the response is over by then.
func (x *exchange) closeBody(body Iterable) {
	c, ok := body.(io.Closer)
	if !ok {
		return
	}
	var err error
	func() {
		defer recoverInto(&err)
		err = c.Close()
	}()
	if err != nil {
		x.log(slog.LevelError, "wsgi: closing the response body failed", err)
	}
}

// startResponse implements StartResponse for this request.
func (x *exchange) startResponse(status string, headers [][2]string, excInfo error) (Write, error) {
	r := &x.resp
	if r.aborted != nil {
		return nil, ErrAborted
	}
	if r.set && excInfo == nil {
		return nil, ErrStartResponseTwice
	}
	if excInfo != nil && r.sent {
		r.aborted = fmt.Errorf("wsgi: exc_info after the headers were sent: %w", excInfo)
		return nil, r.aborted
	}
	code, err := parseStatus(status)
	if err != nil {
		return nil, err
	}
	// The exchange's buffers serve the first start_response; a replacement (exc_info)
	// gets its own, so a refused one cannot spoil the headers already set.
	var buf []byte
	var into asgi.Headers
	if !r.set {
		buf, into = x.hbuf, x.hdrs
	}
	h, buf, err := convertHeaders(headers, buf, into)
	if err != nil {
		return nil, err
	}
	if !r.set && cap(buf) <= maxKeptHeaderBytes && cap(h) <= maxKeptHeaderFields {
		x.hbuf, x.hdrs = buf, h
	}
	r.status, r.headers, r.set = code, h, true
	return x.call.writeFn, nil
}

// write implements the write callable returned by start_response.
func (x *exchange) write(data []byte) error {
	if x.resp.aborted != nil {
		return ErrAborted
	}
	if !x.resp.sent {
		if err := x.sendStart(-1); err != nil {
			return err
		}
	}
	if len(data) == 0 {
		return nil
	}
	return x.sendBodyMsg(data, true)
}

// sendBody iterates body and sends its chunks, the headers going out with the first
// non-empty one.
func (x *exchange) sendBody(body Iterable) error {
	if fw, ok := body.(*FileWrapper); ok {
		if sent, err := x.pathsend(fw); sent {
			return err
		}
	}
	bb, _ := body.(*bytesBody)
	for {
		chunk, err := x.next(body)
		if err == io.EOF {
			return x.finish()
		}
		if err != nil {
			return err
		}
		if len(chunk) == 0 {
			continue
		}
		last := bb != nil && !bb.rest()
		if err := x.sendChunk(chunk, last, bb); err != nil || last {
			return err
		}
	}
}

func (x *exchange) next(body Iterable) (chunk []byte, err error) {
	defer recoverInto(&err)
	return body.Next()
}

// sendChunk sends one non-empty chunk; last ends the body.
func (x *exchange) sendChunk(chunk []byte, last bool, bb *bytesBody) error {
	if err := x.ready(); err != nil {
		return err
	}
	if !x.resp.sent {
		size := int64(-1)
		if bb != nil {
			size = bb.size
		}
		if err := x.sendStart(size); err != nil {
			return err
		}
	}
	return x.sendBodyMsg(chunk, !last)
}

// finish ends the body; when nothing was sent the body is empty, so its length is 0.
func (x *exchange) finish() error {
	if err := x.ready(); err != nil {
		return err
	}
	if !x.resp.sent {
		size := int64(0)
		if x.scope.Method == "HEAD" {
			size = -1
		}
		if err := x.sendStart(size); err != nil {
			return err
		}
	}
	return x.sendBodyMsg(nil, false)
}

// sendBodyMsg sends one http.response.body message (reused: Send does not retain it).
func (x *exchange) sendBodyMsg(body []byte, more bool) error {
	x.bodyMsg = asgi.HTTPResponseBody{Body: body, MoreBody: more}
	return x.sendMsg(&x.bodyMsg)
}

// ready reports why no body may be sent now, if so.
func (x *exchange) ready() error {
	if x.resp.aborted != nil {
		return x.resp.aborted
	}
	if !x.resp.set {
		return ErrNoStartResponse
	}
	return nil
}

// sendStart sends the status and headers, adding Content-Length: size when size >= 0,
// the handler set none and the status allows one.
func (x *exchange) sendStart(size int64) error {
	r := &x.resp
	h := r.headers
	if size >= 0 && lengthAllowed(r.status) && !h.Has("content-length") {
		h = append(h, asgi.HeaderField{Name: nameContentLength, Value: strconv.AppendInt(x.clBuf[:0], size, 10)})
	}
	r.sent = true
	x.startMsg = asgi.HTTPResponseStart{Status: r.status, Headers: h}
	return x.sendMsg(&x.startMsg)
}

var nameContentLength = []byte("content-length")

func lengthAllowed(status int) bool { return status != 204 && status != 304 && status >= 200 }

// pathsend sends a file body by path when the server offers http.response.pathsend and
// the file can be named; sent is false when the body must be streamed instead.
func (x *exchange) pathsend(fw *FileWrapper) (sent bool, err error) {
	if !x.offers(asgi.ExtHTTPResponsePathsend) || !x.resp.set || x.resp.sent || x.resp.aborted != nil {
		return false, nil
	}
	path, size, ok := sendablePath(fw.File)
	if !ok {
		return false, nil
	}
	if err := x.sendStart(size); err != nil {
		return true, err
	}
	return true, x.sendMsg(&asgi.HTTPResponsePathsend{Path: path})
}

// sendablePath returns the absolute path and size of f when f is a regular file at
// offset 0 that its name still points to.
func sendablePath(f *os.File) (path string, size int64, ok bool) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", 0, false
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return "", 0, false
	}
	path, err = filepath.Abs(f.Name())
	if err != nil {
		return "", 0, false
	}
	if st, err := os.Stat(path); err != nil || !os.SameFile(fi, st) {
		return "", 0, false
	}
	return path, fi.Size(), true
}

// fail handles a handler error: logged and answered 500, or, once the headers were
// sent, returned so the server aborts the response. After a detach or a client
// disconnect there is nobody to answer.
func (x *exchange) fail(err error) error {
	if x.detached.Load() || errors.Is(err, asgi.ErrDisconnected) || errors.Is(err, ErrClientDisconnected) {
		x.log(slog.LevelDebug, "wsgi: response ended early", err)
		return err
	}
	x.log(slog.LevelError, "wsgi: handler failed", err)
	if x.started.Load() {
		return err
	}
	x.resp.sent = true
	x.started.Store(true)
	return httpx.Text(x.ctx, x.sendMsgFunc, 500, "Internal Server Error\n")
}

// sendMsgFunc is sendMsg in the shape of asgi.Send.
func (x *exchange) sendMsgFunc(_ context.Context, msg asgi.Message) error { return x.sendMsg(msg) }

func (x *exchange) log(level slog.Level, msg string, err error) {
	attrs := requestAttrs(x.scope, "err", err)
	var pe *panicError
	if errors.As(err, &pe) {
		attrs = append(attrs, "stack", string(pe.stack))
	}
	x.app.cfg.Logger.Log(x.ctx, level, msg, attrs...)
}

// panicError is a recovered panic with the stack where it happened.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("wsgi: panic: %v", p.value) }

// recoverInto turns a panic into a *panicError stored in *err. Deferred directly.
func recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = &panicError{value: v, stack: debug.Stack()}
	}
}
