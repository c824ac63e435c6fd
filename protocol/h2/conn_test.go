package h2

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

func TestGetRequestAndResponse(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "example.com", ":path", "/a%20b?x=1", "host", "other", "accept", "*/*")
		p.wantOK()
		req := p.h.reqs[1]
		if req == nil || req.Method != "GET" || !req.EndStream {
			t.Fatalf("request = %+v", req)
		}
		if path, query := req.Target(); path != "/a%20b" || query != "x=1" {
			t.Fatalf("target = %q, %q", path, query)
		}
		if string(req.Headers.Get("host")) != "example.com" || len(req.Headers.Values("host")) != 1 || string(req.Headers[0].Name) != "host" {
			t.Fatalf("headers = %q", req.Headers)
		}
		p.respond(1, 200, "hello")
		h := p.wantHeaders(1, "200", false)
		if h["content-type"] != "text/plain" {
			t.Fatalf("response headers %v", h)
		}
		p.wantData(1, "hello", true)
		p.wantNothing()
		if p.c.ActiveStreams() != 0 {
			t.Fatalf("active streams = %d after the response", p.c.ActiveStreams())
		}
	})
}

func TestBadPreface(t *testing.T) {
	p := newPeer(t, Config{}, whole, 1)
	p.wbuf.WriteString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	p.flush()
	if p.err != ErrBadPreface {
		t.Fatalf("err = %v", p.err)
	}
}

func TestFirstFrameMustBeSettings(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.wbuf.WriteString(ClientPreface)
		p.fw.WritePing(false, [8]byte{})
		p.flush()
		p.want(http2.FrameSettings)
		p.want(http2.FrameWindowUpdate)
		p.wantConnError(ErrCodeProtocol)
	})
}

func TestPingAndSettingsAck(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.fw.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
		p.flush()
		f := p.want(http2.FramePing).(*http2.PingFrame)
		if !f.IsAck() || f.Data != [8]byte{1, 2, 3, 4, 5, 6, 7, 8} {
			t.Fatalf("ping ack = %+v", f)
		}
		p.fw.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
		p.flush()
		p.wantSettingsAck()
		p.fw.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1})
		p.flush()
		p.wantConnError(ErrCodeProtocol)
	})
}

func TestMalformedRequestsAreStreamErrors(t *testing.T) {
	base := []string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", "/"}
	cases := []struct {
		name   string
		fields []string
		end    bool
	}{
		{"missing path", []string{":method", "GET", ":scheme", "http"}, true},
		{"empty path", []string{":method", "GET", ":scheme", "http", ":path", ""}, true},
		{"unknown pseudo", append(append([]string{}, base...), ":foo", "x"), true},
		{"response pseudo", append(append([]string{}, base...), ":status", "200"), true},
		{"pseudo after regular", []string{":method", "GET", ":scheme", "http", "accept", "x", ":path", "/"}, true},
		{"uppercase name", append(append([]string{}, base...), "Accept", "x"), true},
		{"connection header", append(append([]string{}, base...), "connection", "keep-alive"), true},
		{"te gzip", append(append([]string{}, base...), "te", "gzip"), true},
		{"duplicate method", append(append([]string{}, base...), ":method", "GET"), true},
		{"bad content-length", append(append([]string{}, base...), "content-length", "x1"), false},
		{"content-length without body", append(append([]string{}, base...), "content-length", "3"), true},
		{"protocol pseudo", append(append([]string{}, base...), ":protocol", "websocket"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, Config{}, func(t *testing.T, p *peer) {
				p.handshake()
				p.headers(1, tc.end, tc.fields...)
				p.wantRSTStream(1, ErrCodeProtocol)
				p.wantOK()
				if len(p.h.reqs) != 0 {
					t.Fatal("malformed request reached the handler")
				}
				p.get(3, "/ok")
				p.respond(3, 204, "")
				p.wantHeaders(3, "204", false)
				p.wantData(3, "", true)
			})
		})
	}
}

func TestContentLengthMismatch(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/", "content-length", "3")
		p.data(1, []byte("abcd"), true)
		p.wantRSTStream(1, ErrCodeProtocol)
		if p.h.resets[1] != ErrCodeProtocol {
			t.Fatalf("OnReset not called: %v", p.h.resets)
		}
		p.post(3, "/", "content-length", "3")
		p.data(3, []byte("ab"), true)
		p.wantRSTStream(3, ErrCodeProtocol)
		p.post(5, "/", "content-length", "3")
		p.data(5, []byte("abc"), true)
		p.wantNothing()
		if string(p.h.body[5]) != "abc" || !p.h.ended[5] {
			t.Fatalf("body = %q ended=%v", p.h.body[5], p.h.ended[5])
		}
	})
}

func TestRequestTrailers(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/", "te", "trailers")
		p.data(1, []byte("abc"), false)
		p.headers(1, true, "x-checksum", "42")
		p.wantOK()
		if string(p.h.body[1]) != "abc" || !p.h.ended[1] {
			t.Fatalf("body %q ended %v", p.h.body[1], p.h.ended[1])
		}
		p.post(3, "/")
		p.headers(3, false, "x-checksum", "42")
		p.wantRSTStream(3, ErrCodeProtocol)
		p.post(5, "/")
		p.headers(5, true, ":path", "/x")
		p.wantRSTStream(5, ErrCodeProtocol)
	})
}

func TestResponseTrailers(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.get(1, "/")
		var err error
		p.c.AnnounceTrailers(1)
		p.out, err = p.c.WriteHeaders(p.out, 1, 200, asgi.H("trailer", "x-sum"), false)
		if err != nil {
			t.Fatal(err)
		}
		p.out, _, err = p.c.WriteData(p.out, 1, []byte("body"), true)
		if err != nil {
			t.Fatal(err)
		}
		p.out, err = p.c.WriteTrailers(p.out, 1, asgi.H("X-Sum", "7"))
		if err != nil {
			t.Fatal(err)
		}
		p.wantHeaders(1, "200", false)
		p.wantData(1, "body", false)
		f := p.want(http2.FrameHeaders).(*http2.MetaHeadersFrame)
		if !f.StreamEnded() || len(f.Fields) != 1 || f.Fields[0].Name != "x-sum" || f.Fields[0].Value != "7" {
			t.Fatalf("trailers = %s", describe(f))
		}
		if _, err := p.c.WriteTrailers(nil, 1, nil); err != ErrStreamClosed {
			t.Fatalf("write after end: %v", err)
		}
	})
}

func TestLargeResponseHeadersUseContinuation(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.get(1, "/")
		var err error
		p.out, err = p.c.WriteHeaders(p.out, 1, 200, asgi.H("x-big", strings.Repeat("v", 40000)), true)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(p.out, []byte{byte(http2.FrameContinuation)}) == 0 {
			t.Fatal("no CONTINUATION frame")
		}
		h := p.wantHeaders(1, "200", true)
		if len(h["x-big"]) != 40000 {
			t.Fatalf("x-big has %d bytes", len(h["x-big"]))
		}
	})
}

func TestReceiveFlowControlGrantsAsConsumed(t *testing.T) {
	cfg := Config{StreamWindow: 65535, ConnWindow: 65535 * 2}
	run(t, cfg, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/")
		body := bytes.Repeat([]byte("x"), 16384)
		for i := 0; i < 3; i++ {
			p.data(1, body, false)
		}
		p.wantNothing() // nothing consumed: no window granted, however long we wait
		p.out = p.c.Consumed(p.out, 1, 30000)
		p.wantNothing() // below half a window: batched
		p.out = p.c.Consumed(p.out, 1, 10000)
		p.wantWindowUpdate(1, 40000)
		p.data(1, body, false)
		p.data(1, body[:16384-3], false) // fills the window exactly: 65535+40000 - 81917
		p.wantOK()
		p.data(1, bytes.Repeat([]byte("y"), 40000-16384+3+1), false) // one byte too many
		p.wantRSTStream(1, ErrCodeFlowControl)
		p.wantOK()
	})
}

func TestConnectionWindowExceeded(t *testing.T) {
	run(t, Config{StreamWindow: 65535, ConnWindow: 65535}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/")
		p.post(3, "/")
		chunk := bytes.Repeat([]byte("x"), 16000)
		for i := 0; i < 4; i++ {
			p.data(1, chunk, false)
		}
		p.data(3, chunk, false)
		p.wantConnError(ErrCodeFlowControl)
	})
}

func TestSendFlowControl(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.fw.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
		p.flush()
		p.wantSettingsAck()
		p.get(1, "/")
		var err error
		p.out, err = p.c.WriteHeaders(p.out, 1, 200, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		p.out, n, _ = p.c.WriteData(p.out, 1, []byte("0123456789abcdef"), true)
		if n != 10 {
			t.Fatalf("accepted %d, want 10", n)
		}
		p.wantHeaders(1, "200", false)
		p.wantData(1, "0123456789", false)
		p.out, n, _ = p.c.WriteData(p.out, 1, []byte("abcdef"), true)
		if n != 0 {
			t.Fatalf("accepted %d on a zero window", n)
		}
		windows := p.h.windows
		p.fw.WriteWindowUpdate(1, 100)
		p.flush()
		if p.h.windows == windows {
			t.Fatal("OnSendWindow not called")
		}
		p.out, n, _ = p.c.WriteData(p.out, 1, []byte("abcdef"), true)
		if n != 6 {
			t.Fatalf("accepted %d, want 6", n)
		}
		p.wantData(1, "abcdef", true)
		p.fw.WriteWindowUpdate(0, 1<<31-1)
		p.flush()
		p.wantConnError(ErrCodeFlowControl)
	})
}

func TestOversizedFrame(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/")
		p.fw.WriteData(1, false, make([]byte, 16385))
		p.flush()
		p.wantConnError(ErrCodeFrameSize)
	})
}

func TestIdleStreamFrames(t *testing.T) {
	for name, send := range map[string]func(p *peer){
		"data":          func(p *peer) { p.data(5, []byte("x"), false) },
		"rst_stream":    func(p *peer) { p.rst(5, ErrCodeCancel) },
		"window_update": func(p *peer) { p.fw.WriteWindowUpdate(5, 1); p.flush() },
		"even headers":  func(p *peer) { p.get(2, "/") },
		"continuation":  func(p *peer) { p.raw(http2.FrameContinuation, http2.FlagContinuationEndHeaders, 5, nil) },
		"push_promise":  func(p *peer) { p.raw(http2.FramePushPromise, 0, 1, make([]byte, 4)) },
	} {
		t.Run(name, func(t *testing.T) {
			p := newPeer(t, Config{}, randomChunks, 3)
			p.handshake()
			send(p)
			p.wantConnError(ErrCodeProtocol)
		})
	}
}

func TestClosedStreamFrames(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.get(1, "/")
		p.data(1, []byte("late"), false) // half-closed (remote)
		p.wantRSTStream(1, ErrCodeStreamClosed)
		p.get(3, "/")
		p.respond(3, 200, "")
		p.wantHeaders(3, "200", false)
		p.wantData(3, "", true)
		p.data(3, []byte("x"), false) // closed
		p.wantRSTStream(3, ErrCodeStreamClosed)
		p.get(5, "/")
		p.respond(5, 200, "")
		p.wantHeaders(5, "200", false)
		p.wantData(5, "", true)
		p.get(5, "/") // a stream id that went down
		p.wantConnError(ErrCodeProtocol)
	})
}

func TestMaxConcurrentStreams(t *testing.T) {
	run(t, Config{MaxConcurrentStreams: 2}, func(t *testing.T, p *peer) {
		p.handshake()
		p.get(1, "/")
		p.get(3, "/")
		p.get(5, "/")
		p.wantRSTStream(5, ErrCodeRefusedStream)
		p.respond(1, 200, "")
		p.wantHeaders(1, "200", false)
		p.wantData(1, "", true)
		p.get(7, "/")
		p.wantNothing()
		if p.h.reqs[7] == nil || p.h.reqs[5] != nil {
			t.Fatal("stream 7 should run, 5 should not")
		}
	})
}

// TestRapidReset is CVE-2023-44487: streams opened and cancelled at once, forever.
func TestRapidReset(t *testing.T) {
	run(t, Config{MaxResets: 10}, func(t *testing.T, p *peer) {
		p.handshake()
		id := uint32(1)
		for ; p.err == nil && id < 100; id += 2 {
			p.get(id, "/")
			p.rst(id, ErrCodeCancel)
			p.out = p.c.Release(p.out, id) // the application noticed and returned
		}
		p.wantConnError(ErrCodeEnhanceYourCalm)
		if id != 23 {
			t.Fatalf("connection ended after %d streams, want 11", (id-1)/2)
		}
	})
}

// TestMadeYouReset provokes server-side resets (WINDOW_UPDATE overflow) on streams whose
// applications keep running: they keep counting against the stream limit and the resets
// against the budget.
func TestMadeYouReset(t *testing.T) {
	run(t, Config{MaxConcurrentStreams: 5, MaxResets: 20}, func(t *testing.T, p *peer) {
		p.handshake()
		id := uint32(1)
		for ; p.err == nil && id < 200; id += 2 {
			p.get(id, "/")
			p.fw.WriteWindowUpdate(id, 1<<31-1)
			p.flush()
		}
		p.wantConnError(ErrCodeEnhanceYourCalm)
		if n := len(p.h.reqs); n != 5 {
			t.Fatalf("%d applications started, want 5 (the rest refused)", n)
		}
	})
}

// TestContinuationFlood is CVE-2024-27316: a header block that never ends.
func TestContinuationFlood(t *testing.T) {
	cfg := Config{MaxHeaderListSize: 4096}
	run(t, cfg, func(t *testing.T, p *peer) {
		p.handshake()
		p.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: p.block(":method", "GET"), EndHeaders: false})
		for i := 0; i < 2000 && p.err == nil; i++ {
			p.fw.WriteContinuation(1, false, bytes.Repeat([]byte{0x40}, 100))
			p.flush()
			if limit := p.c.cfg.maxHeaderBlock() + 200; len(p.inbound) > limit {
				t.Fatalf("buffered %d bytes, limit %d", len(p.inbound), limit)
			}
		}
		p.wantConnError(ErrCodeEnhanceYourCalm)
	})
}

// TestHPACKBomb: a small header block referencing a large dynamic-table entry many times
// decodes beyond MaxHeaderListSize: 431, and the connection goes on.
func TestHPACKBomb(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		big := strings.Repeat("b", 4000)
		p.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/", "x-bomb", big)
		p.respond(1, 200, "")
		p.wantHeaders(1, "200", false)
		p.wantData(1, "", true)
		fields := []string{":method", "GET", ":scheme", "http", ":path", "/"}
		for i := 0; i < 40; i++ {
			fields = append(fields, "x-bomb", big)
		}
		p.headers(3, true, fields...)
		p.wantHeaders(3, "431", true)
		p.wantOK()
		if p.h.reqs[3] != nil {
			t.Fatal("the bomb reached the application")
		}
		p.get(5, "/")
		if p.h.reqs[5] == nil {
			t.Fatal("connection unusable after 431")
		}
	})
}

func TestControlFrameFlood(t *testing.T) {
	for name, send := range map[string]func(p *peer){
		"ping":       func(p *peer) { p.fw.WritePing(false, [8]byte{}) },
		"settings":   func(p *peer) { p.fw.WriteSettings() },
		"priority":   func(p *peer) { p.fw.WritePriority(3, http2.PriorityParam{StreamDep: 1}) },
		"empty data": func(p *peer) { p.fw.WriteData(1, false, nil) },
		"unknown":    func(p *peer) { p.fw.WriteRawFrame(0xfa, 0, 0, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			p := newPeer(t, Config{MaxControlFrames: 50}, randomChunks, 5)
			p.handshake()
			p.post(1, "/")
			for i := 0; i < 49; i++ { // handshake SETTINGS used one unit
				send(p)
			}
			p.flush()
			p.wantOK()
			p.now = p.now.Add(time.Second) // a new window
			for i := 0; i < 50; i++ {
				send(p)
			}
			p.flush()
			p.wantOK()
			send(p)
			p.flush()
			p.wantConnError(ErrCodeEnhanceYourCalm)
		})
	}
}

// emptyChain writes a request on stream id as a header block whose first n fragments
// (the HEADERS frame's, then CONTINUATIONs) are empty and whose last CONTINUATION
// carries the block; padded puts padding around the HEADERS frame's empty fragment.
func emptyChain(p *peer, id uint32, n int, padded bool) {
	var pad uint8
	if padded {
		pad = 10
	}
	p.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndStream: true, PadLength: pad})
	for i := 1; i < n; i++ {
		p.fw.WriteContinuation(id, false, nil)
	}
	p.fw.WriteContinuation(id, true, p.block(":method", "GET", ":scheme", "http", ":authority", "example.com", ":path", "/"))
	p.flush()
}

// TestEmptyFrameFlood is CVE-2019-9518: frames that carry nothing (DATA without
// END_STREAM, also on a stream we reset; HEADERS and CONTINUATION with an empty
// header-block fragment) spend the control-frame budget like PING and SETTINGS do.
func TestEmptyFrameFlood(t *testing.T) {
	cfg := Config{MaxControlFrames: 50}
	t.Run("data on a reset stream", func(t *testing.T) {
		run(t, cfg, func(t *testing.T, p *peer) {
			p.handshake() // its SETTINGS used one unit
			p.post(1, "/", "content-length", "1")
			p.data(1, []byte("ab"), false)
			p.wantRSTStream(1, ErrCodeProtocol)
			for i := 0; i < 49; i++ {
				p.fw.WriteData(1, false, nil)
			}
			p.flush()
			p.wantOK()
			p.fw.WriteData(1, false, nil)
			p.flush()
			p.wantConnError(ErrCodeEnhanceYourCalm)
		})
	})
	for _, padded := range []bool{false, true} {
		t.Run(fmt.Sprintf("empty header fragments padded=%v", padded), func(t *testing.T) {
			run(t, cfg, func(t *testing.T, p *peer) {
				p.handshake()
				emptyChain(p, 1, 49, padded)
				p.wantOK()
				if p.h.reqs[1] == nil || p.h.reqs[1].Path != "/" {
					t.Fatalf("request on stream 1: %+v", p.h.reqs[1])
				}
				p.now = p.now.Add(time.Second) // a new window
				emptyChain(p, 3, 51, padded)
				p.wantConnError(ErrCodeEnhanceYourCalm)
				if p.h.reqs[3] != nil {
					t.Fatal("the flooding request reached the handler")
				}
			})
		})
	}
	t.Run("1000 empty DATA frames at the default budget", func(t *testing.T) {
		p := newPeer(t, Config{}, randomChunks, 3)
		p.handshake() // its SETTINGS used one unit
		p.post(1, "/")
		for i := 0; i < DefaultMaxControlFrames-1; i++ {
			p.fw.WriteData(1, false, nil)
		}
		p.flush()
		p.wantOK()
		p.fw.WriteData(1, false, nil)
		p.flush()
		p.wantConnError(ErrCodeEnhanceYourCalm)
	})
	t.Run("empty headers across streams", func(t *testing.T) {
		run(t, cfg, func(t *testing.T, p *peer) {
			p.handshake()
			for id := uint32(1); id < 200 && p.err == nil; id += 2 {
				emptyChain(p, id, 2, false)
				if p.err == nil {
					p.respond(id, 200, "")
				}
			}
			p.wantConnError(ErrCodeEnhanceYourCalm)
		})
	})
}

func TestGracefulShutdown(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.get(1, "/")
		p.out = p.c.Shutdown(p.out)
		g := p.wantGoAway(ErrCodeNo)
		if g.LastStreamID != 1 {
			t.Fatalf("last stream id %d", g.LastStreamID)
		}
		p.get(3, "/")
		if p.h.reqs[3] != nil {
			t.Fatal("stream after GOAWAY was processed")
		}
		if p.c.Drained() {
			t.Fatal("drained with stream 1 in flight")
		}
		p.respond(1, 200, "bye")
		p.wantHeaders(1, "200", false)
		p.wantData(1, "bye", true)
		if !p.c.Drained() {
			t.Fatal("not drained after the last response")
		}
	})
}

func TestReleaseBeforeBodyEndsSendsNoError(t *testing.T) {
	run(t, Config{StreamWindow: 65535, ConnWindow: 65535}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/upload")
		p.data(1, make([]byte, 16000), false)
		p.respond(1, 413, "")
		p.wantHeaders(1, "413", false)
		p.wantData(1, "", true)
		p.wantRSTStream(1, ErrCodeNo)
		for i := 0; i < 8; i++ { // in flight before the RST arrived: ignored, window granted back
			p.data(1, make([]byte, 16000), false)
		}
		p.wantOK()
		if p.c.ActiveStreams() != 0 {
			t.Fatal("stream kept")
		}
	})
}

func TestAppFailureReset(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.get(1, "/")
		p.out, _ = p.c.WriteHeaders(p.out, 1, 200, nil, false)
		p.out = p.c.Reset(p.out, 1, ErrCodeInternal)
		p.wantHeaders(1, "200", false)
		p.wantRSTStream(1, ErrCodeInternal)
		if _, _, err := p.c.WriteData(nil, 1, []byte("x"), true); err != ErrStreamClosed {
			t.Fatalf("WriteData after reset: %v", err)
		}
		p.out = p.c.Release(p.out, 1)
		p.wantNothing()
		if p.c.ActiveStreams() != 0 {
			t.Fatal("stream kept")
		}
	})
}

func TestPeerResetTellsHandler(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/")
		p.rst(1, ErrCodeCancel)
		if p.h.resets[1] != ErrCodeCancel {
			t.Fatalf("resets %v", p.h.resets)
		}
		if _, err := p.c.WriteHeaders(nil, 1, 200, nil, true); err != ErrStreamClosed {
			t.Fatalf("WriteHeaders after peer reset: %v", err)
		}
		if p.c.ActiveStreams() != 1 {
			t.Fatal("a reset stream must count until released")
		}
		p.out = p.c.Release(p.out, 1)
		p.wantNothing()
	})
}

func TestUpgrade(t *testing.T) {
	payload := make([]byte, 6)
	binary.BigEndian.PutUint16(payload, uint16(http2.SettingInitialWindowSize))
	binary.BigEndian.PutUint32(payload[2:], 5)
	c := NewConn(Config{}, newRecorder())
	out, err := c.StartUpgrade(nil, base64.RawURLEncoding.EncodeToString(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.WriteHeaders(out[:0], 1, 200, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := c.WriteData(out, 1, []byte("0123456789"), true)
	if n != 5 {
		t.Fatalf("upgrade settings not applied: accepted %d", n)
	}
	if _, err := NewConn(Config{}, newRecorder()).StartUpgrade(nil, "!!"); err != ErrBadHTTP2Settings {
		t.Fatalf("bad settings: %v", err)
	}
}

// nopHandler does nothing, for allocation counts.
type nopHandler struct{}

func (nopHandler) OnRequest(uint32, *Request)  {}
func (nopHandler) OnData(uint32, []byte, bool) {}
func (nopHandler) OnReset(uint32, ErrCode)     {}
func (nopHandler) OnSendWindow(uint32)         {}
func (nopHandler) OnGoAway(ErrCode, uint32)    {}

func TestDataFrameZeroAllocs(t *testing.T) {
	p := newPeer(t, Config{}, whole, 1)
	p.c.h = nopHandler{}
	p.handshake()
	p.post(1, "/")
	p.out = p.out[:0]
	p.fw.WriteData(1, false, make([]byte, 1024))
	frame := bytes.Clone(p.wbuf.Bytes())
	p.wbuf.Reset()
	out := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(200, func() {
		var n int
		out, n, _ = p.c.Feed(out[:0], frame, p.now)
		if n != len(frame) {
			t.Fatalf("consumed %d", n)
		}
		out = p.c.Consumed(out[:0], 1, 1024)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per DATA frame", allocs)
	}
}

// TestPaddingIsGrantedBack: padding counts against the windows but is never consumed
// by the application, so it is granted back without waiting for Consumed.
func TestPaddingIsGrantedBack(t *testing.T) {
	run(t, Config{StreamWindow: 65535, ConnWindow: 65535}, func(t *testing.T, p *peer) {
		p.handshake()
		p.post(1, "/")
		for i := 0; i < 400; i++ { // 80 KB of frames through 64 KB windows
			p.fw.WriteDataPadded(1, false, []byte("x"), make([]byte, 200))
		}
		p.flush()
		p.wantOK()
		if string(p.h.body[1]) != strings.Repeat("x", 400) {
			t.Fatalf("body %q", p.h.body[1])
		}
		updates := map[uint32]int{}
		for f := p.next(); f != nil; f = p.next() {
			if wu, ok := f.(*http2.WindowUpdateFrame); ok {
				updates[wu.StreamID]++
			}
		}
		if updates[0] == 0 || updates[1] == 0 {
			t.Fatalf("window updates %v, want both the connection and the stream", updates)
		}
	})
}

// TestPeerMaxFrameSize: DATA frames follow the peer's SETTINGS_MAX_FRAME_SIZE.
func TestPeerMaxFrameSize(t *testing.T) {
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.handshake()
		p.fw.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 20000})
		p.flush()
		p.wantSettingsAck()
		p.get(1, "/")
		p.out, _ = p.c.WriteHeaders(p.out, 1, 200, nil, false)
		var n int
		p.out, n, _ = p.c.WriteData(p.out, 1, make([]byte, 30000), true)
		if n != 30000 {
			t.Fatalf("accepted %d", n)
		}
		p.wantHeaders(1, "200", false)
		if f := p.want(http2.FrameData).(*http2.DataFrame); len(f.Data()) != 20000 {
			t.Fatalf("first DATA frame has %d bytes, want 20000", len(f.Data()))
		}
		if f := p.want(http2.FrameData).(*http2.DataFrame); len(f.Data()) != 10000 || !f.StreamEnded() {
			t.Fatalf("second DATA frame: %d bytes end=%v", len(f.Data()), f.StreamEnded())
		}
	})
}

// TestExtendedConnect: SETTINGS_ENABLE_CONNECT_PROTOCOL is advertised, a well-formed
// extended CONNECT (RFC 8441) reaches the Handler with its protocol and target, and
// the malformed shapes are stream errors.
func TestExtendedConnect(t *testing.T) {
	ws := []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":authority", "a", ":path", "/chat?room=1"}
	run(t, Config{}, func(t *testing.T, p *peer) {
		p.wbuf.WriteString(ClientPreface)
		p.fw.WriteSettings()
		p.flush()
		sf := p.want(http2.FrameSettings).(*http2.SettingsFrame)
		if v, ok := sf.Value(http2.SettingEnableConnectProtocol); !ok || v != 1 {
			t.Fatalf("ENABLE_CONNECT_PROTOCOL = %d, %v", v, ok)
		}
		p.wantWindowUpdate(0, p.c.cfg.ConnWindow-initialWindow)
		p.wantSettingsAck()
		p.fw.WriteSettingsAck()
		p.flush()
		p.headers(1, false, ws...)
		p.wantOK()
		req := p.h.reqs[1]
		if req == nil || req.Method != "CONNECT" || req.Protocol != "websocket" || req.Scheme != "http" || req.EndStream {
			t.Fatalf("request = %+v", req)
		}
		if path, query := req.Target(); path != "/chat" || query != "room=1" {
			t.Fatalf("target = %q, %q", path, query)
		}
		p.data(1, []byte("frames"), false)
		p.wantOK()
		if string(p.h.body[1]) != "frames" {
			t.Fatalf("data = %q", p.h.body[1])
		}
	})
	cases := []struct {
		name   string
		fields []string
	}{
		{"missing path", []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":authority", "a"}},
		{"missing scheme", []string{":method", "CONNECT", ":protocol", "websocket", ":authority", "a", ":path", "/"}},
		{"missing authority", []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/"}},
		{"empty protocol", []string{":method", "CONNECT", ":protocol", "", ":scheme", "http", ":authority", "a", ":path", "/"}},
		{"protocol on GET", []string{":method", "GET", ":protocol", "websocket", ":scheme", "http", ":authority", "a", ":path", "/"}},
		{"relative path", []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":authority", "a", ":path", "chat"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, Config{}, func(t *testing.T, p *peer) {
				p.handshake()
				p.headers(1, false, tc.fields...)
				p.wantRSTStream(1, ErrCodeProtocol)
				p.wantOK()
				if len(p.h.reqs) != 0 {
					t.Fatal("malformed request reached the handler")
				}
			})
		})
	}
	t.Run("disabled", func(t *testing.T) {
		run(t, Config{DisableExtendedConnect: true}, func(t *testing.T, p *peer) {
			p.handshake()
			p.headers(1, false, ws...)
			p.wantRSTStream(1, ErrCodeProtocol)
			p.wantOK()
		})
	})
	t.Run("plain CONNECT", func(t *testing.T) {
		run(t, Config{}, func(t *testing.T, p *peer) {
			p.handshake()
			p.headers(1, false, ":method", "CONNECT", ":authority", "a:443")
			p.wantOK()
			if req := p.h.reqs[1]; req == nil || req.Protocol != "" {
				t.Fatalf("request = %+v", req)
			}
		})
	})
}
