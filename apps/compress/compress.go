package compress

import (
	"context"
	"fmt"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// DefaultMinSize is the smallest body compressed when Config.MinSize is 0: below it the
// codings' framing (18 bytes for gzip) eats most of the gain. It is also the default of
// the WebSocket compression threshold.
const DefaultMinSize = 256

// DefaultContentTypes are the media types compressed when Config.ContentTypes is empty.
var DefaultContentTypes = []string{
	"text/*",
	"application/json", "application/*+json", "application/x-ndjson",
	"application/javascript", "application/x-javascript", "application/ecmascript",
	"application/xml", "application/*+xml",
	"application/wasm", "application/graphql-response+json",
	"application/x-www-form-urlencoded", "application/manifest+json",
	"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
	"font/ttf", "font/otf", "application/vnd.ms-fontobject",
}

// DefaultStreamingTypes are the media types compressed from their first message when
// Config.StreamingTypes is empty.
var DefaultStreamingTypes = []string{
	"text/event-stream", "application/x-ndjson", "application/jsonl",
	"application/stream+json", "multipart/x-mixed-replace",
}

// Config configures the middleware. The zero value has no encodings: New returns the
// app unwrapped.
type Config struct {
	// Encodings lists the codings offered ("gzip", "br", "zstd"), most preferred first;
	// empty turns compression off. See ParseEncodings.
	Encodings []string
	// MinSize is the smallest body compressed, in bytes (0: DefaultMinSize; negative:
	// every body).
	MinSize int
	// ContentTypes are the media types compressed: "type/subtype", "type/*" or
	// "type/*+suffix" (case-insensitive; parameters ignored). Empty:
	// DefaultContentTypes.
	ContentTypes []string
	// StreamingTypes are media types compressed from the first message even when the
	// first message is smaller than MinSize and more follow (same patterns). Empty:
	// DefaultStreamingTypes.
	StreamingTypes []string
	// GzipLevel (1-9, 0: 5), BrotliLevel (0-11, 0: 4) and ZstdLevel (1-22, mapped to
	// the nearest of klauspost/compress's four levels; 0: 3) set the effort.
	GzipLevel, BrotliLevel, ZstdLevel int
}

// ParseEncodings parses a comma-separated list such as "gzip,br,zstd" (the --compress
// flag): empty gives nil (off); unknown or repeated names are an error.
func ParseEncodings(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "brotli" {
			e = "br"
		}
		if !known(e) {
			return nil, fmt.Errorf("compress: unknown encoding %q (want gzip, br or zstd)", e)
		}
		for _, o := range out {
			if o == e {
				return nil, fmt.Errorf("compress: encoding %q listed twice", e)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func known(e string) bool { return e == "gzip" || e == "br" || e == "zstd" }

// Compressor is the middleware. It is safe for concurrent use.
type Compressor struct {
	app       asgi.App
	codecs    []*codec // in preference order
	stream    *codec   // stateless gzip for streaming types, when gzip is offered
	min       int
	types     []pattern
	streaming []pattern
}

// New wraps app with compression as cfg says. With no encodings it returns app itself.
// It fails on unknown encodings, bad levels or malformed media-type patterns.
func New(app asgi.App, cfg Config) (asgi.App, error) {
	if len(cfg.Encodings) == 0 {
		return app, nil
	}
	c, err := NewCompressor(app, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewCompressor is New returning the concrete type, even without encodings (then it
// only adds Vary to nothing and passes every response through).
func NewCompressor(app asgi.App, cfg Config) (*Compressor, error) {
	c := &Compressor{app: app, min: cfg.MinSize}
	if c.min == 0 {
		c.min = DefaultMinSize
	}
	for i, e := range cfg.Encodings {
		e = strings.ToLower(e)
		if !known(e) {
			return nil, fmt.Errorf("compress: unknown encoding %q (want gzip, br or zstd)", e)
		}
		for _, o := range cfg.Encodings[:i] {
			if strings.EqualFold(o, e) {
				return nil, fmt.Errorf("compress: encoding %q listed twice", e)
			}
		}
		cd, err := codecFor(e, cfg)
		if err != nil {
			return nil, err
		}
		c.codecs = append(c.codecs, cd)
		if e == "gzip" {
			if c.stream, err = codecFor("gzip", Config{GzipLevel: gzip.StatelessCompression}); err != nil {
				return nil, err
			}
		}
	}
	types, streaming := cfg.ContentTypes, cfg.StreamingTypes
	if len(types) == 0 {
		types = DefaultContentTypes
	}
	if len(streaming) == 0 {
		streaming = DefaultStreamingTypes
	}
	var err error
	if c.types, err = compile(types); err != nil {
		return nil, err
	}
	if c.streaming, err = compile(streaming); err != nil {
		return nil, err
	}
	return c, nil
}

// ServeASGI serves HTTP scopes through the compressing send; other scopes go to the
// wrapped app untouched. The encoder a response used is back in its pool when
// ServeASGI returns, whatever happened.
func (c *Compressor) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return c.app.ServeASGI(ctx, scope, receive, send)
	}
	r := getResponse()
	r.c, r.next = c, send
	r.codec, r.streamCodec = nil, nil
	if s.Method != "HEAD" {
		r.codec = c.negotiate(s.Headers)
		r.streamCodec = r.codec
		if r.codec != nil && c.stream != nil && c.accepts(s.Headers, c.stream.name) {
			r.streamCodec = c.stream
		}
	}
	err := c.app.ServeASGI(ctx, scope, receive, r.sendFn)
	r.finish(ctx, err)
	putResponse(r)
	return err
}

// Inline passes the wrapped app's answer on: the middleware itself never blocks.
func (c *Compressor) Inline(scope asgi.Scope) bool { return asgi.CanInline(c.app, scope) }

// Recycles passes the wrapped app's answer on: the middleware keeps nothing of a call
// once it returns (its per-response state goes back to a pool, without send).
func (c *Compressor) Recycles() bool { return asgi.CanRecycle(c.app) }

// RecyclesBody passes the wrapped app's answer on: request bodies go through untouched.
func (c *Compressor) RecyclesBody(scope asgi.Scope) bool { return asgi.CanRecycleBody(c.app, scope) }

// WebSocketHandler passes the wrapped app's event-mode handler on: WebSocket scopes
// are not compressed here (permessage-deflate is the server's).
func (c *Compressor) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	return asgi.WebSocketHandlerFor(c.app, scope)
}
