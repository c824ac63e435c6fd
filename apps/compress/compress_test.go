package compress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

var all = []string{"gzip", "br", "zstd"}

// decoder returns a streaming decoder of encoding over r.
func decoder(t testing.TB, enc string, r io.Reader) io.Reader {
	t.Helper()
	switch enc {
	case "gzip":
		d, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		return d
	case "br":
		return brotli.NewReader(r)
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d
	}
	t.Fatalf("no decoder for %q", enc)
	return nil
}

func decode(t testing.TB, enc string, b []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(decoder(t, enc, bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("decode %s: %v", enc, err)
	}
	return out
}

// part is one http.response.body message.
type part struct {
	body string
	more bool
}

// responder sends a start with headers (alternating names and values) and the parts.
func responder(status int, headers []string, parts ...part) asgi.App {
	return asgi.AppFunc(func(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: status, Headers: asgi.H(headers...)}); err != nil {
			return err
		}
		for _, p := range parts {
			// A buffer the app reuses: the middleware must not keep it.
			b := []byte(p.body)
			if err := send(ctx, &asgi.HTTPResponseBody{Body: b, MoreBody: p.more}); err != nil {
				return err
			}
			for i := range b {
				b[i] = '#'
			}
		}
		return nil
	})
}

func mustNew(t testing.TB, app asgi.App, cfg Config) *Compressor {
	t.Helper()
	c, err := NewCompressor(app, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve runs app on a GET (or method) with request headers and returns what it sent.
func serve(t testing.TB, app asgi.App, method string, reqHeaders ...string) (*asgitest.Recorder, asgitest.Response) {
	t.Helper()
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	scope := asgitest.NewHTTPScope(method, "/", reqHeaders...)
	if err := app.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{}), rec.Send); err != nil {
		t.Fatal(err)
	}
	return rec, rec.Response()
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		offer  []string
		accept []string // Accept-Encoding fields; nil: no header
		want   string
	}{
		{all, nil, ""},
		{all, []string{""}, ""},
		{all, []string{"identity"}, ""},
		{all, []string{"gzip"}, "gzip"},
		{all, []string{"GZip"}, "gzip"},
		{all, []string{"x-gzip"}, "gzip"},
		{all, []string{"gzip, deflate, br, zstd"}, "gzip"}, // server order on ties
		{[]string{"zstd", "br", "gzip"}, []string{"gzip, deflate, br, zstd"}, "zstd"},
		{all, []string{"gzip;q=0.5, br"}, "br"}, // the client's q first
		{all, []string{"br;q=0.8, gzip;q=0.8"}, "gzip"},
		{all, []string{"gzip;q=0, br;q=0.1"}, "br"},
		{all, []string{"gzip;q=0"}, ""},
		{all, []string{"gzip;q=0.000"}, ""},
		{all, []string{"*"}, "gzip"},
		{all, []string{"*;q=0"}, ""},
		{all, []string{"gzip;q=0, *"}, "br"},
		{all, []string{"*;q=0, zstd"}, "zstd"},
		{all, []string{"*;q=0.5, br;q=0.6"}, "br"},
		{all, []string{"gzip;q=1.5, br;q=x, zstd ; q=0.3"}, "zstd"}, // malformed q counts as 0
		{all, []string{"deflate", "br"}, "br"},                      // several fields
		{all, []string{" , ;q=1, br ;Q=1.0"}, "br"},
		{[]string{"br"}, []string{"gzip, zstd"}, ""},
	}
	for _, tt := range tests {
		c := mustNew(t, nil, Config{Encodings: tt.offer})
		var h asgi.Headers
		for _, v := range tt.accept {
			h = append(h, asgi.HeaderField{Name: []byte("accept-encoding"), Value: []byte(v)})
		}
		got := ""
		if cd := c.negotiate(h); cd != nil {
			got = cd.name
		}
		if got != tt.want {
			t.Errorf("offer %v, Accept-Encoding %q: got %q, want %q", tt.offer, tt.accept, got, tt.want)
		}
	}
	c := mustNew(t, nil, Config{Encodings: all})
	h := asgi.H("accept-encoding", "deflate;q=0.9, gzip;q=0.5, *;q=0.1")
	if n := testing.AllocsPerRun(100, func() { c.negotiate(h) }); n != 0 {
		t.Errorf("negotiate allocates %v times", n)
	}
}

func TestParseEncodings(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		err  bool
	}{
		{"", "", false}, {"gzip", "gzip", false}, {"gzip, BR,zstd", "gzip,br,zstd", false},
		{"brotli", "br", false}, {"deflate", "", true}, {"gzip,gzip", "", true},
	} {
		got, err := ParseEncodings(tt.in)
		if (err != nil) != tt.err || strings.Join(got, ",") != tt.want {
			t.Errorf("ParseEncodings(%q) = %v, %v", tt.in, got, err)
		}
	}
	if _, err := New(nil, Config{Encodings: []string{"lz4"}}); err == nil {
		t.Error("New accepted lz4")
	}
	if _, err := New(nil, Config{Encodings: []string{"gzip"}, ContentTypes: []string{"text"}}); err == nil {
		t.Error("New accepted the content type pattern \"text\"")
	}
	if _, err := New(nil, Config{Encodings: []string{"gzip"}, GzipLevel: 10}); err == nil {
		t.Error("New accepted gzip level 10")
	}
	app := responder(200, nil)
	if got, _ := New(app, Config{}); fmt.Sprint(got) != fmt.Sprint(app) {
		t.Error("New without encodings wrapped the app")
	}
}

func TestMatches(t *testing.T) {
	ps, err := compile([]string{"text/*", "application/json", "application/*+xml"})
	if err != nil {
		t.Fatal(err)
	}
	for ct, want := range map[string]bool{
		"text/html": true, "Text/HTML; charset=utf-8": true, "text/": false, "text": false,
		"application/json": true, "application/json ; x=y": true, "application/jsonx": false,
		"application/atom+xml": true, "application/+xml": false, "application/xml": false,
		"image/png": false, "": false,
	} {
		if got := matches(ps, []byte(ct)); got != want {
			t.Errorf("matches(%q) = %v, want %v", ct, got, want)
		}
	}
}

var big = strings.Repeat(`{"id":12345,"name":"compressible","tags":["a","b","c"]},`, 40) // 2200 bytes

// TestRules checks which responses are compressed and the headers they get.
func TestRules(t *testing.T) {
	cl := fmt.Sprint(len(big))
	tests := []struct {
		name    string
		method  string
		accept  string
		status  int
		headers []string
		parts   []part
		want    bool   // compressed
		vary    string // the Vary sent ("" none)
		etag    string // the ETag sent, if any
	}{
		{"json", "GET", "gzip", 200, []string{"content-type", "application/json"}, []part{{big, false}}, true, "Accept-Encoding", ""},
		{"html with length", "GET", "gzip", 200, []string{"Content-Type", "text/html; charset=utf-8", "Content-Length", cl}, []part{{big, false}}, true, "Accept-Encoding", ""},
		{"svg", "GET", "gzip", 200, []string{"content-type", "image/svg+xml"}, []part{{big, false}}, true, "Accept-Encoding", ""},
		{"404 text", "GET", "gzip", 404, []string{"content-type", "text/plain"}, []part{{big, false}}, true, "Accept-Encoding", ""},
		{"png", "GET", "gzip", 200, []string{"content-type", "image/png"}, []part{{big, false}}, false, "", ""},
		{"zip", "GET", "gzip", 200, []string{"content-type", "application/zip"}, []part{{big, false}}, false, "", ""},
		{"video", "GET", "gzip", 200, []string{"content-type", "video/mp4"}, []part{{big, false}}, false, "", ""},
		{"no type", "GET", "gzip", 200, nil, []part{{big, false}}, false, "", ""},
		{"encoded already", "GET", "gzip", 200, []string{"content-type", "text/plain", "content-encoding", "br"}, []part{{big, false}}, false, "", ""},
		{"no-transform", "GET", "gzip", 200, []string{"content-type", "text/plain", "cache-control", "public, no-transform"}, []part{{big, false}}, false, "", ""},
		{"range", "GET", "gzip", 206, []string{"content-type", "text/plain", "content-range", "bytes 0-9/20"}, []part{{big, false}}, false, "", ""},
		{"content-range on 200", "GET", "gzip", 200, []string{"content-type", "text/plain", "content-range", "bytes */20"}, []part{{big, false}}, false, "", ""},
		{"204", "GET", "gzip", 204, []string{"content-type", "text/plain"}, []part{{"", false}}, false, "", ""},
		{"304", "GET", "gzip", 304, []string{"content-type", "text/plain", "etag", `"x"`}, []part{{"", false}}, false, "", `"x"`},
		{"HEAD", "HEAD", "gzip", 200, []string{"content-type", "text/plain", "content-length", cl}, []part{{"", false}}, false, "Accept-Encoding", ""},
		{"no accept-encoding", "GET", "", 200, []string{"content-type", "text/plain"}, []part{{big, false}}, false, "Accept-Encoding", ""},
		{"identity only", "GET", "gzip;q=0, identity", 200, []string{"content-type", "text/plain"}, []part{{big, false}}, false, "Accept-Encoding", ""},
		{"small by length", "GET", "gzip", 200, []string{"content-type", "text/plain", "content-length", "5"}, []part{{"hello", false}}, false, "", ""},
		{"small body", "GET", "gzip", 200, []string{"content-type", "text/plain"}, []part{{"hello", false}}, false, "Accept-Encoding", ""},
		{"small stream", "GET", "gzip", 200, []string{"content-type", "text/plain"}, []part{{"hel", true}, {"lo", true}, {"", false}}, false, "Accept-Encoding", ""},
		{"stream reaching the minimum", "GET", "gzip", 200, []string{"content-type", "text/plain"}, []part{{big[:100], true}, {big[100:200], true}, {big[200:], false}}, true, "Accept-Encoding", ""},
		{"vary appended", "GET", "br", 200, []string{"content-type", "text/plain", "Vary", "Origin"}, []part{{big, false}}, true, "Origin, Accept-Encoding", ""},
		{"vary covered", "GET", "br", 200, []string{"content-type", "text/plain", "vary", "origin, accept-encoding"}, []part{{big, false}}, true, "origin, accept-encoding", ""},
		{"vary star", "GET", "br", 200, []string{"content-type", "text/plain", "vary", "*"}, []part{{big, false}}, true, "*", ""},
		{"strong etag", "GET", "zstd", 200, []string{"content-type", "text/plain", "etag", `"abc"`}, []part{{big, false}}, true, "Accept-Encoding", `W/"abc"`},
		{"weak etag", "GET", "zstd", 200, []string{"content-type", "text/plain", "etag", `W/"abc"`}, []part{{big, false}}, true, "Accept-Encoding", `W/"abc"`},
		{"etag uncompressed", "GET", "", 200, []string{"content-type", "text/plain", "etag", `"abc"`}, []part{{big, false}}, false, "Accept-Encoding", `"abc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, responder(tt.status, append(tt.headers, "x-app", "kept"), tt.parts...), Config{Encodings: all})
			var req []string
			if tt.accept != "" {
				req = []string{"accept-encoding", tt.accept}
			}
			_, resp := serve(t, c, tt.method, req...)
			var want strings.Builder
			for _, p := range tt.parts {
				want.WriteString(p.body)
			}
			ce := string(resp.Headers.Get("content-encoding"))
			body := resp.Body
			if tt.want {
				if ce == "" || ce == "br" && strings.Contains(strings.Join(tt.headers, " "), "content-encoding") {
					t.Fatalf("not compressed: %v", resp.Headers)
				}
				body = decode(t, ce, resp.Body)
				if resp.Headers.Has("content-length") || resp.Headers.Has("accept-ranges") {
					t.Errorf("compressed response keeps its length: %v", resp.Headers)
				}
			} else if ce != "" && !strings.Contains(strings.Join(tt.headers, " "), "content-encoding") {
				t.Fatalf("compressed (%s) but should not be", ce)
			}
			if string(body) != want.String() || !resp.Complete || resp.Status != tt.status {
				t.Fatalf("status %d, complete %v, body %q, want %q", resp.Status, resp.Complete, body, want.String())
			}
			if got := string(bytes.Join(resp.Headers.Values("vary"), []byte(","))); got != tt.vary {
				t.Errorf("Vary %q, want %q", got, tt.vary)
			}
			if got := string(resp.Headers.Get("etag")); got != tt.etag {
				t.Errorf("ETag %q, want %q", got, tt.etag)
			}
			if string(resp.Headers.Get("x-app")) != "kept" {
				t.Errorf("lost a header: %v", resp.Headers)
			}
			if inUse.Load() != 0 {
				t.Errorf("%d encoders not returned", inUse.Load())
			}
		})
	}
}

// TestEachEncoding round-trips a body in one message and in several.
func TestEachEncoding(t *testing.T) {
	for _, enc := range all {
		for _, parts := range [][]part{{{big, false}}, {{big[:1000], true}, {big[1000:], true}, {"", false}}} {
			c := mustNew(t, responder(200, []string{"content-type", "application/json"}, parts...), Config{Encodings: all})
			_, resp := serve(t, c, "GET", "accept-encoding", enc)
			if got := string(resp.Headers.Get("content-encoding")); got != enc {
				t.Fatalf("%s: Content-Encoding %q", enc, got)
			}
			if got := decode(t, enc, resp.Body); string(got) != big {
				t.Fatalf("%s: decoded %d bytes, want %d", enc, len(got), len(big))
			}
			if len(resp.Body) >= len(big)/2 {
				t.Errorf("%s: %d bytes compressed to %d", enc, len(big), len(resp.Body))
			}
		}
	}
}

// TestStreamingFlush checks that every message of a stream can be decoded as soon as
// it was sent: an SSE stream starts compressing with its first, small event.
func TestStreamingFlush(t *testing.T) {
	events := []string{"data: one\n\n", "data: two\n\n", "event: x\ndata: three\n\n", "data: four\n\n"}
	for _, enc := range all {
		t.Run(enc, func(t *testing.T) {
			pr, pw := io.Pipe()
			chunks := make(chan []byte, 16)
			go func() {
				for b := range chunks {
					if _, err := pw.Write(b); err != nil {
						return
					}
				}
				pw.Close()
			}()
			defer close(chunks)
			var dec io.Reader
			msgs := 0
			send := func(ctx context.Context, msg asgi.Message) error {
				switch m := msg.(type) {
				case *asgi.HTTPResponseStart:
					if got := string(m.Headers.Get("content-encoding")); got != enc {
						return fmt.Errorf("content-encoding %q", got)
					}
				case *asgi.HTTPResponseBody:
					if !m.MoreBody {
						return nil
					}
					chunks <- bytes.Clone(m.Body)
					if dec == nil {
						dec = decoder(t, enc, pr)
					}
					got := make([]byte, len(events[msgs]))
					done := make(chan error, 1)
					go func() { _, err := io.ReadFull(dec, got); done <- err }()
					select {
					case err := <-done:
						if err != nil || string(got) != events[msgs] {
							return fmt.Errorf("event %d decoded as %q, %v", msgs, got, err)
						}
					case <-time.After(5 * time.Second):
						return fmt.Errorf("event %d cannot be decoded before the next one (not flushed)", msgs)
					}
					msgs++
				}
				return nil
			}
			parts := make([]part, 0, len(events)+1)
			for _, e := range events {
				parts = append(parts, part{e, true})
			}
			parts = append(parts, part{"", false})
			c := mustNew(t, responder(200, []string{"content-type", "text/event-stream", "cache-control", "no-cache"}, parts...), Config{Encodings: all})
			scope := asgitest.NewHTTPScope("GET", "/events", "accept-encoding", enc)
			if err := c.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}), send); err != nil {
				t.Fatal(err)
			}
			if msgs != len(events) {
				t.Fatalf("%d events decoded", msgs)
			}
		})
	}
}

// TestStreamsUseStatelessGzip checks that a streaming type goes out with stateless
// gzip when the client accepts gzip, whatever the preference, and a whole response
// with the preferred coding.
func TestStreamsUseStatelessGzip(t *testing.T) {
	offer := []string{"zstd", "br", "gzip"}
	for _, tt := range []struct {
		ct, accept, want string
	}{
		{"text/event-stream", "gzip, br, zstd", "gzip"},
		{"text/event-stream", "br, zstd", "zstd"},
		{"text/event-stream", "gzip;q=0, br", "br"},
		{"application/json", "gzip, br, zstd", "zstd"},
	} {
		c := mustNew(t, responder(200, []string{"content-type", tt.ct}, part{"data: x\n\n", true}, part{big, false}), Config{Encodings: offer})
		_, resp := serve(t, c, "GET", "accept-encoding", tt.accept)
		if got := string(resp.Headers.Get("content-encoding")); got != tt.want {
			t.Errorf("%s with %q: %q, want %q", tt.ct, tt.accept, got, tt.want)
			continue
		}
		if got := decode(t, tt.want, resp.Body); string(got) != "data: x\n\n"+big {
			t.Errorf("%s with %q: decoded %.40q", tt.ct, tt.accept, got)
		}
	}
	if c := mustNew(t, nil, Config{Encodings: []string{"br"}}); c.stream != nil {
		t.Error("stateless gzip without gzip offered")
	}
}

// TestBuffering checks the undecided phase: small messages of a non-streaming type are
// held (copied) until the minimum size is reached, then sent compressed in one piece.
func TestBuffering(t *testing.T) {
	parts := []part{{big[:100], true}, {big[100:200], true}, {big[200:400], true}, {big[400:], false}}
	c := mustNew(t, responder(200, []string{"content-type", "text/plain"}, parts...), Config{Encodings: []string{"gzip"}})
	rec, resp := serve(t, c, "GET", "accept-encoding", "gzip")
	// start, the first three parts (400 bytes >= 256) in one message, the last.
	if len(rec.Messages) != 3 {
		t.Fatalf("sent %s, want start and two bodies", rec)
	}
	if got := decode(t, "gzip", resp.Body); string(got) != big {
		t.Fatalf("decoded %q", got)
	}
}

// TestAbort checks that an encoder goes back to the pool when the app fails or the
// client is gone mid-body, and that nothing is sent for an app failing while the
// response was held.
func TestAbort(t *testing.T) {
	errBoom := errors.New("boom")
	failing := func(n int) asgi.App {
		return asgi.AppFunc(func(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
			if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain")}); err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				if err := send(ctx, &asgi.HTTPResponseBody{Body: []byte(big), MoreBody: true}); err != nil {
					return err
				}
			}
			return errBoom
		})
	}
	for _, enc := range all {
		c := mustNew(t, failing(2), Config{Encodings: all})
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		err := c.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/", "accept-encoding", enc), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
		if !errors.Is(err, errBoom) || inUse.Load() != 0 || len(rec.Messages) != 3 {
			t.Fatalf("%s: err %v, %d encoders in use, sent %s", enc, err, inUse.Load(), rec)
		}
		// The client disconnects: send fails on the second body.
		sent := 0
		gone := func(_ context.Context, msg asgi.Message) error {
			if sent++; sent > 2 {
				return asgi.ErrDisconnected
			}
			return nil
		}
		err = c.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/", "accept-encoding", enc), asgitest.Script(&asgi.HTTPDisconnect{}), gone)
		if !errors.Is(err, asgi.ErrDisconnected) || inUse.Load() != 0 {
			t.Fatalf("%s: err %v, %d encoders in use", enc, err, inUse.Load())
		}
	}
	// Failing before anything was decided: nothing was sent, so the server answers 500.
	c := mustNew(t, failing(0), Config{Encodings: all})
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	err := c.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/", "accept-encoding", "gzip"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
	if !errors.Is(err, errBoom) || len(rec.Messages) != 0 {
		t.Fatalf("err %v, sent %s", err, rec)
	}
}

func TestPathsend(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/html", "content-length", "4000")}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponsePathsend{Path: "/x.html"})
	})
	rec, resp := serve(t, mustNew(t, app, Config{Encodings: all}), "GET", "accept-encoding", "gzip")
	if resp.Headers.Has("content-encoding") || string(resp.Headers.Get("content-length")) != "4000" || len(rec.Messages) != 2 {
		t.Fatalf("sent %s with %v", rec, resp.Headers)
	}
}

// capable is an app with both capabilities, answering yes for "/inline".
type capable struct{ asgi.AppFunc }

func (capable) Inline(s asgi.Scope) bool { return s.(*asgi.HTTPScope).Path == "/inline" }

type handler struct{}

func (handler) HandleWebSocket(asgi.Message, asgi.WebSocketSender) error { return nil }

func (capable) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler { return handler{} }

func TestOtherScopesAndCapabilities(t *testing.T) {
	var seen []asgi.Scope
	inner := capable{func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		seen = append(seen, s)
		if ws, ok := s.(*asgi.WebSocketScope); ok {
			return send(ctx, &asgi.WebSocketAccept{Subprotocol: ws.Subprotocols[0]})
		}
		return send(ctx, &asgi.LifespanStartupComplete{})
	}}
	c := mustNew(t, inner, Config{Encodings: all})
	ws := &asgi.WebSocketScope{Path: "/ws", Subprotocols: []string{"chat"}, Headers: asgi.H("accept-encoding", "gzip")}
	var got []asgi.Message
	rec := func(_ context.Context, m asgi.Message) error { got = append(got, m); return nil }
	_ = c.ServeASGI(context.Background(), ws, asgitest.Script(nil), rec)
	_ = c.ServeASGI(context.Background(), &asgi.LifespanScope{}, asgitest.Script(nil), rec)
	if len(seen) != 2 || seen[0] != asgi.Scope(ws) || len(got) != 2 || got[0].(*asgi.WebSocketAccept).Subprotocol != "chat" {
		t.Fatalf("scopes %v, messages %v", seen, got)
	}
	if !c.Inline(asgitest.NewHTTPScope("GET", "/inline")) || c.Inline(asgitest.NewHTTPScope("GET", "/other")) {
		t.Error("Inline not passed on")
	}
	if _, ok := c.WebSocketHandler(ws).(handler); !ok {
		t.Error("WebSocketHandler not passed on")
	}
	plain := mustNew(t, responder(200, nil), Config{Encodings: all})
	if plain.Inline(asgitest.NewHTTPScope("GET", "/")) || plain.WebSocketHandler(ws) != nil {
		t.Error("capabilities invented for an app without them")
	}
}
