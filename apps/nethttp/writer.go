package nethttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"asgo/protocol/asgi"
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

// responseWriter is the http.ResponseWriter handed to the handler. Like net/http's, it
// is not safe for concurrent use; the bytes passed to Write are not retained.
type responseWriter struct {
	ctx    context.Context
	send   asgi.Send
	scope  *asgi.HTTPScope
	logger *slog.Logger
	header http.Header // the handler's map

	// State after WriteHeader:
	wroteHeader   bool
	status        int
	snapshot      http.Header // header as of WriteHeader
	contentLength int64       // declared, or -1
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
}

func newResponseWriter(ctx context.Context, send asgi.Send, scope *asgi.HTTPScope, logger *slog.Logger) *responseWriter {
	w := &responseWriter{ctx: ctx, send: send, scope: scope, logger: logger,
		header: make(http.Header), contentLength: -1, head: scope.Method == "HEAD",
		h2: scope.HTTPVersion == "2", holdBack: bufferBeforeStart}
	if w.h2 {
		w.holdBack = bufferSize
	}
	return w
}

// Header returns the header map; changes after WriteHeader have no effect except for
// trailers.
func (w *responseWriter) Header() http.Header { return w.header }

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
	w.snapshot = w.header.Clone()
	if cl := w.snapshot.Get("Content-Length"); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			w.contentLength = v
		} else {
			w.logger.Warn("nethttp: invalid Content-Length", "value", cl, "path", w.scope.Path)
			w.snapshot.Del("Content-Length")
		}
	}
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

// WriteString is Write for a string.
func (w *responseWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

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

// Flush sends the headers and any buffered body now.
func (w *responseWriter) Flush() { _ = w.FlushError() }

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

// EnableFullDuplex reports success: the body can always be read while responding.
func (w *responseWriter) EnableFullDuplex() error { return nil }

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
	if err := w.send(w.ctx, &asgi.HTTPResponseBody{Body: p, MoreBody: more}); err != nil {
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
	h := w.snapshot
	w.decideTrailers(h)
	headers := make(asgi.Headers, 0, len(h)+2)
	headers = appendHeaders(headers, h, w.status, w.h2)
	headers = w.appendComputed(headers, h)
	msg := &asgi.HTTPResponseStart{Status: w.status, Headers: headers, Trailers: w.trailers}
	if err := w.send(w.ctx, msg); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *responseWriter) appendComputed(headers asgi.Headers, h http.Header) asgi.Headers {
	if !bodyAllowed(w.status) {
		return headers
	}
	_, hasCL := h["Content-Length"]
	_, hasTE := h["Transfer-Encoding"]
	// net/http's HTTP/1 server sends trailers only with chunked framing; its HTTP/2
	// server gives a complete body a length either way.
	if w.done && (w.h2 || !w.declared && !hasTE) && !hasCL && (!w.head || w.written > 0) {
		headers = append(headers, field("Content-Length", strconv.FormatInt(w.written, 10)))
	}
	_, hasType := h["Content-Type"]
	if !hasType && !hasTE && h.Get("Content-Encoding") == "" && len(w.buf) > 0 {
		headers = append(headers, field("Content-Type", http.DetectContentType(w.buf)))
	}
	return headers
}

// decideTrailers collects the declared trailer names; trailers are sent only when the
// server offers the extension.
func (w *responseWriter) decideTrailers(h http.Header) {
	for _, v := range h["Trailer"] {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				w.trailerKeys = append(w.trailerKeys, http.CanonicalHeaderKey(k))
			}
		}
	}
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
			out = appendField(out, k, v)
		}
	}
	for k, vs := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, v := range vs {
				out = appendField(out, name, v)
			}
		}
	}
	return out
}

// appendHeaders converts h in sorted key order (as net/http writes them), leaving out
// trailer placeholders, connection-specific fields and, where no body is allowed, body
// framing fields.
func appendHeaders(out asgi.Headers, h http.Header, status int, h2 bool) asgi.Headers {
	keys := make([]string, 0, len(h))
	for k := range h {
		if !excluded(k, status, h2) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			out = appendField(out, k, v)
		}
	}
	return out
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

// appendField adds one field, dropping invalid names and turning control bytes in the
// value into spaces (net/http drops such names and replaces newlines likewise).
func appendField(out asgi.Headers, k, v string) asgi.Headers {
	name := []byte(k)
	if !asgi.ValidHeaderName(name) {
		return out
	}
	value := []byte(strings.TrimSpace(v))
	for i, c := range value {
		if c < 0x20 && c != '\t' || c == 0x7f {
			value[i] = ' '
		}
	}
	return append(out, asgi.HeaderField{Name: name, Value: value})
}

func field(k, v string) asgi.HeaderField {
	return asgi.HeaderField{Name: []byte(k), Value: []byte(v)}
}

// bodyAllowed reports whether a response with status may have a body (RFC 9110).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}
