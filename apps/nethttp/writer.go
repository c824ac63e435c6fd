package nethttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

const (
	// bufferBeforeStart is how much body is held before the headers go out; a handler
	// that finishes within it gets a Content-Length (net/http's bufferBeforeChunkingSize
	// over HTTP/1.x; its HTTP/2 server holds bufferSize).
	bufferBeforeStart = 2048
	// bufferSize is how much body is gathered into one http.response.body message once
	// the headers were sent, unless the handler flushes.
	bufferSize = 4096
)

// ErrWriteAfterReturn is returned by Write and Flush once the handler has returned.
var ErrWriteAfterReturn = errors.New("nethttp: write after the handler returned")

// responseWriter is the response state of one request. Like net/http's, it is not safe
// for concurrent use; the bytes passed to Write are not retained. It is pooled: its
// header snapshot and body buffer keep their storage from one request to the next, so
// the handler only ever sees it through a writerHandle. The header map is new for
// every request, since a handler may keep the map it was given.
type responseWriter struct {
	ctx    context.Context
	send   asgi.Send
	scope  *asgi.HTTPScope
	logger *slog.Logger
	header http.Header // the handler's map

	// State after WriteHeader:
	wroteHeader   bool
	status        int
	snap          asgi.Headers // the header as of WriteHeader, converted for the start
	snapBytes     []byte       // the names and values of snap
	flags         snapFlags
	contentLength int64 // declared, or -1
	written       int64
	head          bool // HEAD request: body is counted, not sent
	h2            bool // HTTP/2: net/http's HTTP/2 framing rules apply
	holdBack      int  // body bytes held before the headers go out

	started bool   // http.response.start was sent
	buf     []byte // body not sent yet
	done    bool   // the handler returned
	err     error  // sticky send error
	// Trailers, decided at start:
	trailerKeys []string
	declared    bool // the handler declared trailers
	trailers    bool // trailers are declared and the server offers them
	// Messages and bytes reused for every send (Send does not retain them).
	startMsg asgi.HTTPResponseStart
	bodyMsg  asgi.HTTPResponseBody
	clBuf    [20]byte
}

// writers holds idle responseWriters with their storage.
var writers = sync.Pool{New: func() any { return new(responseWriter) }}

// maxKeptBuffer is the largest body buffer a pooled writer keeps.
const maxKeptBuffer = 4 * bufferSize

// getWriter returns a writer prepared for one request.
func getWriter(ctx context.Context, send asgi.Send, scope *asgi.HTTPScope, logger *slog.Logger) *responseWriter {
	w := writers.Get().(*responseWriter)
	snap, snapBytes, buf, keys := w.snap[:0], w.snapBytes[:0], w.buf[:0], w.trailerKeys[:0]
	if buf == nil {
		buf = make([]byte, 0, bufferSize)
	}
	*w = responseWriter{ctx: ctx, send: send, scope: scope, logger: logger,
		header: make(http.Header), snap: snap, snapBytes: snapBytes, buf: buf, trailerKeys: keys,
		contentLength: -1, head: scope.Method == "HEAD", h2: scope.HTTPVersion == "2",
		holdBack: bufferBeforeStart}
	if w.h2 {
		w.holdBack = bufferSize
	}
	return w
}

// putWriter returns w to the pool once nothing refers to the request any more.
func putWriter(w *responseWriter) {
	w.header = nil
	clear(w.snap[:cap(w.snap)]) // drop the references into snapBytes' old requests
	if cap(w.buf) > maxKeptBuffer {
		w.buf = nil
	}
	w.ctx, w.send, w.scope, w.logger, w.err = nil, nil, nil, nil, nil
	w.startMsg, w.bodyMsg = asgi.HTTPResponseStart{}, asgi.HTTPResponseBody{}
	writers.Put(w)
}

// writerHandle is the http.ResponseWriter handed to the handler. It stops working when
// ServeHTTP returns: writes fail with ErrWriteAfterReturn and Header returns a map of
// its own, so a handler that keeps it cannot touch the pooled writer's next request.
type writerHandle struct {
	w      *responseWriter
	closed atomic.Bool
}

func (h *writerHandle) close() { h.closed.Store(true) }

// Header returns the header map; changes after WriteHeader have no effect except for
// trailers.
func (h *writerHandle) Header() http.Header {
	if h.closed.Load() {
		return http.Header{}
	}
	return h.w.header
}

// WriteHeader sends (once) the status code; see responseWriter.WriteHeader.
func (h *writerHandle) WriteHeader(code int) {
	if !h.closed.Load() {
		h.w.WriteHeader(code)
	}
}

// Write buffers or sends p as part of the body.
func (h *writerHandle) Write(p []byte) (int, error) {
	if h.closed.Load() {
		return 0, ErrWriteAfterReturn
	}
	return h.w.Write(p)
}

// WriteString is Write for a string.
func (h *writerHandle) WriteString(s string) (int, error) { return h.Write([]byte(s)) }

// Flush sends the headers and any buffered body now.
func (h *writerHandle) Flush() { _ = h.FlushError() }

// FlushError is Flush returning the error (used by http.ResponseController).
func (h *writerHandle) FlushError() error {
	if h.closed.Load() {
		return ErrWriteAfterReturn
	}
	return h.w.FlushError()
}

// EnableFullDuplex reports success: the body can always be read while responding.
func (h *writerHandle) EnableFullDuplex() error { return nil }

// snapFlags records what the header held at WriteHeader, for the computed fields.
type snapFlags struct {
	hasCL, hasTE, hasType, hasEncoding bool
}

// WriteHeader sends (once) the status code. Codes outside 100-999 panic as in net/http;
// 1xx codes other than 101 are dropped (no interim responses in the contract).
func (w *responseWriter) WriteHeader(code int) {
	if w.wroteHeader {
		w.logger.Debug("nethttp: superfluous WriteHeader call", "path", w.scope.Path, "code", code)
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		return
	}
	w.wroteHeader, w.status = true, code
	w.snapshotHeader()
}

// Write buffers or sends p as part of the body.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, ErrWriteAfterReturn
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.head && w.started {
		return len(p), nil // counted, never sent
	}
	return len(p), w.buffer(p)
}

// buffer adds p to the pending body and sends what exceeds the buffer.
func (w *responseWriter) buffer(p []byte) error {
	if !w.started {
		w.buf = append(w.buf, p...)
		return w.startIfOver()
	}
	if len(w.buf) == 0 && len(p) >= bufferSize {
		return w.sendBody(p, true)
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= bufferSize {
		return w.flushBuf()
	}
	return nil
}

// startIfOver sends the headers once the body outgrew the pre-start buffer.
func (w *responseWriter) startIfOver() error {
	if w.started || len(w.buf) <= w.holdBack && w.written <= int64(w.holdBack) {
		return nil
	}
	if err := w.start(); err != nil {
		return err
	}
	return w.flushBuf()
}

// FlushError is Flush returning the error (used by http.ResponseController).
func (w *responseWriter) FlushError() error {
	if w.done {
		return ErrWriteAfterReturn
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return w.err
	}
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	return w.flushBuf()
}

func (w *responseWriter) flushBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.sendBody(w.buf, true)
	w.buf = w.buf[:0]
	return err
}

func (w *responseWriter) sendBody(p []byte, more bool) error {
	if w.head {
		p = nil
	}
	w.bodyMsg = asgi.HTTPResponseBody{Body: p, MoreBody: more}
	if err := w.send(w.ctx, &w.bodyMsg); err != nil {
		w.err = err
		return err
	}
	return nil
}

// finish completes the response after the handler returned.
func (w *responseWriter) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.done = true
	if w.err != nil {
		return w.err
	}
	if !w.started {
		if err := w.start(); err != nil {
			return err
		}
	}
	if w.contentLength != -1 && w.written < w.contentLength && bodyAllowed(w.status) && !w.head {
		return errShortBody
	}
	if err := w.sendBody(w.buf, false); err != nil || !w.trailers {
		return err
	}
	return w.send(w.ctx, &asgi.HTTPResponseTrailers{Headers: w.collectTrailers()})
}

// errShortBody aborts a response shorter than its declared Content-Length, as net/http
// closes such a connection.
var errShortBody = errors.New("nethttp: handler wrote less than the declared Content-Length")

// start sends http.response.start with the snapshot headers plus what net/http's server
// computes: Content-Length for a complete short body, a sniffed Content-Type, and the
// suppression of body headers on 204/304.
func (w *responseWriter) start() error {
	w.started = true
	w.decideTrailers()
	w.startMsg = asgi.HTTPResponseStart{Status: w.status, Headers: w.appendComputed(w.snap), Trailers: w.trailers}
	if err := w.send(w.ctx, &w.startMsg); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *responseWriter) appendComputed(headers asgi.Headers) asgi.Headers {
	if !bodyAllowed(w.status) {
		return headers
	}
	f := w.flags
	// net/http's HTTP/1 server sends trailers only with chunked framing; its HTTP/2
	// server gives a complete body a length either way.
	if w.done && (w.h2 || !w.declared && !f.hasTE) && !f.hasCL && (!w.head || w.written > 0) {
		headers = append(headers, asgi.HeaderField{Name: nameContentLength, Value: strconv.AppendInt(w.clBuf[:0], w.written, 10)})
	}
	if !f.hasType && !f.hasTE && !f.hasEncoding && len(w.buf) > 0 {
		headers = append(headers, asgi.HeaderField{Name: nameContentType, Value: contentType(w.buf)})
	}
	return headers
}

var (
	nameContentLength = []byte("Content-Length")
	nameContentType   = []byte("Content-Type")
)

// sniffed holds the usual results of http.DetectContentType as shared, read-only
// header values.
var sniffed = func() map[string][]byte {
	m := map[string][]byte{}
	for _, t := range []string{"text/plain; charset=utf-8", "text/html; charset=utf-8",
		"application/octet-stream", "application/json", "text/xml; charset=utf-8"} {
		m[t] = []byte(t)
	}
	return m
}()

// contentType sniffs the type of body as net/http does.
func contentType(body []byte) []byte {
	t := http.DetectContentType(body)
	if v, ok := sniffed[t]; ok {
		return v
	}
	return []byte(t)
}

// decideTrailers decides whether trailers follow the body: when the handler declared
// them (a Trailer header at WriteHeader, or http.TrailerPrefix keys in the live map)
// and the server offers the extension.
func (w *responseWriter) decideTrailers() {
	prefixed := false
	for k := range w.header { // the live map: prefixed trailers may be set after WriteHeader
		prefixed = prefixed || strings.HasPrefix(k, http.TrailerPrefix)
	}
	_, offered := w.scope.Extensions[asgi.ExtHTTPResponseTrailers]
	w.declared = len(w.trailerKeys) > 0 || prefixed
	w.trailers = offered && w.declared && bodyAllowed(w.status) && !w.head
}

// collectTrailers reads the trailer values from the handler's header map as it is now.
func (w *responseWriter) collectTrailers() asgi.Headers {
	var out asgi.Headers
	for _, k := range w.trailerKeys {
		for _, v := range w.header[k] {
			out, _ = appendField(out, nil, k, v)
		}
	}
	for k, vs := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, v := range vs {
				out, _ = appendField(out, nil, name, v)
			}
		}
	}
	return out
}

// snapshotHeader converts the handler's header as it is at WriteHeader, in sorted key
// order (as net/http writes them), leaving out trailer placeholders, connection-specific
// fields and, where no body is allowed, body framing fields. All names and values share
// one allocation.
func (w *responseWriter) snapshotHeader() {
	h := w.header
	var arr [24]string
	keys, size, n := arr[:0], 0, 0
	for k, vs := range h {
		w.noteKey(k, vs)
		if excluded(k, w.status, w.h2) || k == "Content-Length" && w.contentLength < 0 {
			continue
		}
		keys = append(keys, k)
		for _, v := range vs {
			size += len(k) + len(v)
			n++
		}
	}
	slices.Sort(keys)
	buf := slices.Grow(w.snapBytes[:0], size)
	out := slices.Grow(w.snap[:0], n+2)
	for _, k := range keys {
		for _, v := range h[k] {
			out, buf = appendField(out, buf, k, v)
		}
	}
	w.snap, w.snapBytes = out, buf
}

// noteKey records what the computed fields depend on: framing, type, encoding,
// declared trailers and the declared Content-Length.
func (w *responseWriter) noteKey(k string, vs []string) {
	if k == "Content-Type" { // present even without a value: no sniffing (net/http)
		w.flags.hasType = true
	}
	if len(vs) == 0 {
		return
	}
	switch k {
	case "Content-Length":
		w.flags.hasCL = w.parseLength(vs[0])
	case "Transfer-Encoding":
		w.flags.hasTE = vs[0] != ""
	case "Content-Encoding":
		w.flags.hasEncoding = vs[0] != ""
	case "Trailer":
		for _, v := range vs {
			for name := range strings.SplitSeq(v, ",") {
				if name = strings.TrimSpace(name); name != "" {
					w.trailerKeys = append(w.trailerKeys, http.CanonicalHeaderKey(name))
				}
			}
		}
	}
}

// parseLength takes a declared Content-Length; an invalid one is dropped with a
// warning, as net/http does.
func (w *responseWriter) parseLength(cl string) bool {
	v, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || v < 0 {
		w.logger.Warn("nethttp: invalid Content-Length", "value", cl, "path", w.scope.Path)
		return false
	}
	w.contentLength = v
	return true
}

func excluded(k string, status int, h2 bool) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade":
		return true
	case "Content-Length":
		return !bodyAllowed(status)
	case "Content-Type":
		return status == http.StatusNotModified && !h2 // net/http's HTTP/2 server keeps it
	}
	return strings.HasPrefix(k, http.TrailerPrefix)
}

// appendField adds one field whose bytes are appended to buf, dropping invalid names and
// turning control bytes in the value into spaces (net/http drops such names and replaces
// newlines likewise). Bytes already appended are never changed, so earlier fields stay
// valid even when buf grows.
func appendField(out asgi.Headers, buf []byte, k, v string) (asgi.Headers, []byte) {
	start := len(buf)
	buf = append(buf, k...)
	name := buf[start:len(buf):len(buf)]
	if !asgi.ValidHeaderName(name) {
		return out, buf[:start]
	}
	start = len(buf)
	buf = append(buf, strings.TrimSpace(v)...)
	value := buf[start:len(buf):len(buf)]
	for i, c := range value {
		if c < 0x20 && c != '\t' || c == 0x7f {
			value[i] = ' '
		}
	}
	return append(out, asgi.HeaderField{Name: name, Value: value}), buf
}

// bodyAllowed reports whether a response with status may have a body (RFC 9110).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
