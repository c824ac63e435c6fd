package eventloop

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/asgo-dev/asgo/protocol/websocket"
)

// The conformance suite follows the case groups of the Autobahn|Testsuite (1 framing,
// 2 ping/pong, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling,
// 9 limits, 12/13 permessage-deflate) and runs every case against the real server with
// the echo app at /ws.

// step is one client action or expectation in a conformance case.
type step func(c *wsClient)

func send(op ws.OpCode, fin bool, payload string) step {
	return func(c *wsClient) { c.frame(op, fin, []byte(payload)) }
}

func sendRsv(op ws.OpCode, rsv byte, payload []byte) step {
	return func(c *wsClient) { c.writeRaw(frameBytes(op, true, rsv, payload, true)) }
}

// sendSlow writes one frame a byte at a time.
func sendSlow(op ws.OpCode, payload string) step {
	return func(c *wsClient) { c.writeChunked(frameBytes(op, true, 0, []byte(payload), true), 1) }
}

func sendUnmasked(op ws.OpCode, payload string) step {
	return func(c *wsClient) { c.writeRaw(frameBytes(op, true, 0, []byte(payload), false)) }
}

func sendClose(code int, reason string) step {
	return func(c *wsClient) { c.close(code, reason) }
}

func expectText(s string) step {
	return func(c *wsClient) { c.expectMessage(ws.OpText, []byte(s)) }
}

func expectBinary(b []byte) step {
	return func(c *wsClient) { c.expectMessage(ws.OpBinary, b) }
}

func expectPong(payload string) step {
	return func(c *wsClient) { c.expectMessage(ws.OpPong, []byte(payload)) }
}

func expectCloseCode(code int) step { return func(c *wsClient) { c.expectClose(code) } }

type conformanceCase struct {
	name  string
	steps []step
}

func steps(s ...step) []step { return s }

func conformanceGroups() map[string][]conformanceCase {
	long := strings.Repeat("*", 65536)
	mib := bytes.Repeat([]byte{0xfe}, 1<<20)
	kosme := "κόσμε"
	return map[string][]conformanceCase{
		"1-framing": {
			{"text 0", steps(send(ws.OpText, true, ""), expectText(""))},
			{"text 125", steps(send(ws.OpText, true, long[:125]), expectText(long[:125]))},
			{"text 126", steps(send(ws.OpText, true, long[:126]), expectText(long[:126]))},
			{"text 127", steps(send(ws.OpText, true, long[:127]), expectText(long[:127]))},
			{"text 65535", steps(send(ws.OpText, true, long[:65535]), expectText(long[:65535]))},
			{"text 65536", steps(send(ws.OpText, true, long), expectText(long))},
			{"text 65536 byte by byte", steps(sendSlow(ws.OpText, long), expectText(long))},
			{"binary 1 MiB", steps(func(c *wsClient) { c.binary(mib) }, expectBinary(mib))},
			{"binary 1 MiB in 997-byte writes", steps(func(c *wsClient) { c.writeChunked(frameBytes(ws.OpBinary, true, 0, mib, true), 997) }, expectBinary(mib))},
			{"unmasked frame", steps(sendUnmasked(ws.OpText, "x"), expectCloseCode(1002))},
		},
		"2-ping-pong": {
			{"ping empty", steps(send(ws.OpPing, true, ""), expectPong(""))},
			{"ping 125", steps(send(ws.OpPing, true, long[:125]), expectPong(long[:125]))},
			{"ping 126", steps(send(ws.OpPing, true, long[:126]), expectCloseCode(1002))},
			{"ping binary payload", steps(send(ws.OpPing, true, "\x00\xff\xfe"), expectPong("\x00\xff\xfe"))},
			{"ping byte by byte", steps(sendSlow(ws.OpPing, "slow"), expectPong("slow"))},
			{"unsolicited pong", steps(send(ws.OpPong, true, "x"), send(ws.OpText, true, "after"), expectText("after"))},
			{"ten pings", func() []step {
				var s []step
				for range 10 {
					s = append(s, send(ws.OpPing, true, "p"))
				}
				for range 10 {
					s = append(s, expectPong("p"))
				}
				return s
			}()},
			{"fragmented ping", steps(send(ws.OpPing, false, "a"), expectCloseCode(1002))},
		},
		"3-reserved-bits": {
			{"rsv1 text", steps(sendRsv(ws.OpText, 4, []byte("x")), expectCloseCode(1002))},
			{"rsv2 text after echo", steps(send(ws.OpText, true, "ok"), expectText("ok"), sendRsv(ws.OpText, 2, []byte("x")), expectCloseCode(1002))},
			{"rsv3 binary", steps(sendRsv(ws.OpBinary, 1, []byte{1}), expectCloseCode(1002))},
			{"rsv all ping", steps(sendRsv(ws.OpPing, 7, nil), expectCloseCode(1002))},
			{"rsv1 close", steps(sendRsv(ws.OpClose, 4, []byte{3, 0xe8}), expectCloseCode(1002))},
		},
		"4-opcodes": {
			{"opcode 3", steps(send(3, true, ""), expectCloseCode(1002))},
			{"opcode 4 with payload", steps(send(4, true, "reserved"), expectCloseCode(1002))},
			{"opcode 7 after echo", steps(send(ws.OpText, true, "a"), expectText("a"), send(7, true, ""), expectCloseCode(1002))},
			{"opcode 11", steps(send(11, true, ""), expectCloseCode(1002))},
			{"opcode 15", steps(send(15, true, "x"), expectCloseCode(1002))},
		},
		"5-fragmentation": {
			{"two fragments", steps(send(ws.OpText, false, "frag"), send(ws.OpContinuation, true, "ment"), expectText("fragment"))},
			{"many fragments", func() []step {
				s := []step{send(ws.OpBinary, false, "")}
				for range 100 {
					s = append(s, send(ws.OpContinuation, false, "ab"))
				}
				return append(s, send(ws.OpContinuation, true, ""), expectBinary(bytes.Repeat([]byte("ab"), 100)))
			}()},
			{"ping between fragments", steps(send(ws.OpText, false, "a"), send(ws.OpPing, true, "p"), send(ws.OpContinuation, true, "b"), expectPong("p"), expectText("ab"))},
			{"pong between fragments", steps(send(ws.OpText, false, "a"), send(ws.OpPong, true, ""), send(ws.OpContinuation, true, "b"), expectText("ab"))},
			{"continuation without start", steps(send(ws.OpContinuation, true, "x"), expectCloseCode(1002))},
			{"continuation not final without start", steps(send(ws.OpContinuation, false, "x"), expectCloseCode(1002))},
			{"text inside fragmented message", steps(send(ws.OpText, false, "a"), send(ws.OpText, true, "b"), expectCloseCode(1002))},
			{"fragmented close", steps(send(ws.OpText, false, "a"), send(ws.OpClose, false, ""), expectCloseCode(1002))},
		},
		"6-utf8": {
			{"valid", steps(send(ws.OpText, true, kosme), expectText(kosme))},
			{"split across fragments at every byte", func() []step {
				s := []step{send(ws.OpText, false, "")}
				for i := range len(kosme) {
					s = append(s, send(ws.OpContinuation, false, kosme[i:i+1]))
				}
				return append(s, send(ws.OpContinuation, true, ""), expectText(kosme))
			}()},
			{"4-byte codepoints", steps(send(ws.OpText, true, "\U0001F600\U0010FFFF"), expectText("\U0001F600\U0010FFFF"))},
			{"invalid", steps(send(ws.OpText, true, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"), expectCloseCode(1007))},
			{"invalid in first fragment fails fast", steps(send(ws.OpText, false, "\xce\xba\xff"), expectCloseCode(1007))},
			{"invalid in middle fragment fails fast", steps(send(ws.OpText, false, kosme), send(ws.OpContinuation, false, "\xf4\x90\x80\x80"), expectCloseCode(1007))},
			{"truncated at end", steps(send(ws.OpText, false, "\xce"), send(ws.OpContinuation, true, ""), expectCloseCode(1007))},
			{"surrogate", steps(send(ws.OpText, true, "\xed\xbf\xbf"), expectCloseCode(1007))},
			{"overlong", steps(send(ws.OpText, true, "\xc0\xaf"), expectCloseCode(1007))},
		},
		"7-close": {
			{"close 1000", steps(sendClose(1000, ""), expectCloseCode(1000))},
			{"close empty", steps(send(ws.OpClose, true, ""), expectCloseCode(1005))},
			{"close with reason", steps(sendClose(1000, "done"), expectCloseCode(1000))},
			{"close 1 byte payload", steps(send(ws.OpClose, true, "\x03"), expectCloseCode(1002))},
			{"close invalid utf8 reason", steps(sendClose(1000, "\xff"), expectCloseCode(1002))},
			{"close reason 123 bytes", steps(sendClose(1000, long[:123]), expectCloseCode(1000))},
			{"close payload 126 bytes", steps(sendClose(1000, long[:124]), expectCloseCode(1002))},
			{"data after close ignored", steps(sendClose(1000, ""), send(ws.OpText, true, "late"), expectCloseCode(1000))},
			{"ping after close ignored", steps(sendClose(1000, ""), send(ws.OpPing, true, "late"), expectCloseCode(1000))},
			{"close during fragmented message", steps(send(ws.OpText, false, "a"), sendClose(1000, ""), expectCloseCode(1000))},
		},
		"9-limits": {
			{"frame over the limit", steps(func(c *wsClient) { c.writeRaw(frameBytes(ws.OpBinary, true, 0, make([]byte, 2<<20), true)[:64]) }, expectCloseCode(1009))},
			{"fragments over the limit", steps(
				func(c *wsClient) { c.frame(ws.OpBinary, false, make([]byte, 700<<10)) },
				func(c *wsClient) { c.frame(ws.OpContinuation, true, make([]byte, 700<<10)) },
				expectCloseCode(1009))},
			{"exactly at the limit", steps(func(c *wsClient) { c.binary(make([]byte, 1<<20)) }, expectBinary(make([]byte, 1<<20)))},
		},
	}
}

// validCloseCodes and invalidCloseCodes are Autobahn cases 7.7 and 7.9.
var (
	validCloseCodes   = []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}
	invalidCloseCodes = []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}
)

// TestWebSocketConformance runs every case against the echo app in event mode (/ws)
// and through ServeASGI on a goroutine (/ws-goroutine): the two modes share the frame
// handling but not the delivery of messages or the sends.
func TestWebSocketConformance(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		ts := tr.start(t, Config{WebSocket: websocket.Config{MaxMessageSize: 1 << 20}}, newWSTestApp())
		for _, path := range []string{"/ws", "/ws-goroutine"} {
			t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) { conformance(t, ts, path) })
		}
	})
}

func conformance(t *testing.T, ts *testServer, path string) {
	conformanceOver(t, func(t *testing.T, extra ...string) *wsClient { return dialWS(t, ts, path, extra...) })
}

// conformanceOver runs the suite with WebSockets opened by dial (with extra
// handshake header lines): over HTTP/1.1 here, over HTTP/2 streams in
// TestH2WebSocketConformance.
func conformanceOver(t *testing.T, dial func(t *testing.T, extra ...string) *wsClient) {
	run := func(t *testing.T, steps []step, extra ...string) {
		c := dial(t, extra...)
		for _, s := range steps {
			s(c)
		}
	}
	for group, cases := range conformanceGroups() {
		t.Run(group, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
			}
		})
	}
	t.Run("7-close/codes", func(t *testing.T) {
		for _, code := range validCloseCodes {
			run(t, steps(sendClose(code, ""), expectCloseCode(code)))
		}
		for _, code := range invalidCloseCodes {
			run(t, steps(sendClose(code, ""), expectCloseCode(1002)))
		}
	})
	t.Run("12-13-permessage-deflate", func(t *testing.T) {
		for _, tc := range deflateCases() {
			t.Run(tc.name, func(t *testing.T) {
				run(t, tc.steps, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
			})
		}
	})
}

// compressed encodes payload as one PMCE message without context takeover.
func compressed(t testing.TB, payload []byte) []byte {
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(payload)
	fw.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// expectCompressed reads a message that must arrive compressed (RSV1) and inflate to want.
func expectCompressed(op ws.OpCode, want []byte) step {
	return func(c *wsClient) {
		f := c.read()
		if !f.Header.Rsv1() || f.Header.OpCode != op {
			c.t.Fatalf("frame %+v not compressed", f.Header)
		}
		got, err := wsflate.DefaultHelper.Decompress(f.Payload)
		if err != nil || !bytes.Equal(got, want) {
			c.t.Fatalf("inflate: %v (%d bytes, want %d)", err, len(got), len(want))
		}
	}
}

func deflateCases() []conformanceCase {
	text := bytes.Repeat([]byte("permessage-deflate "), 4000)
	small := []byte("tiny")
	binaryData := bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7}, 20000)
	return []conformanceCase{
		{"negotiated", steps(func(c *wsClient) {
			ext := c.resp.Header.Get("Sec-WebSocket-Extensions")
			if ext != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
				c.t.Fatalf("extension response %q", ext)
			}
		})},
		{"compressed text echoed compressed", steps(sendRsv(ws.OpText, 4, compressed(nil, text)), expectCompressed(ws.OpText, text))},
		{"compressed binary echoed compressed", steps(sendRsv(ws.OpBinary, 4, compressed(nil, binaryData)), expectCompressed(ws.OpBinary, binaryData))},
		{"uncompressed small message stays uncompressed", steps(send(ws.OpText, true, string(small)), expectText(string(small)))},
		{"compressed fragments", func() []step {
			p := compressed(nil, text)
			return steps(
				func(c *wsClient) { c.writeRaw(frameBytes(ws.OpText, false, 4, p[:10], true)) },
				send(ws.OpPing, true, "mid"),
				func(c *wsClient) { c.writeRaw(frameBytes(ws.OpContinuation, true, 0, p[10:], true)) },
				expectPong("mid"), expectCompressed(ws.OpText, text))
		}()},
		{"rsv1 on continuation", steps(send(ws.OpText, false, "a"), func(c *wsClient) { c.writeRaw(frameBytes(ws.OpContinuation, true, 4, []byte("b"), true)) }, expectCloseCode(1002))},
		{"rsv1 on ping", steps(sendRsv(ws.OpPing, 4, nil), expectCloseCode(1002))},
		{"compression bomb", steps(sendRsv(ws.OpBinary, 4, compressed(nil, make([]byte, 64<<20))), expectCloseCode(1009))},
		{"garbage", steps(sendRsv(ws.OpBinary, 4, []byte{0xff, 0xff, 0xff}), expectCloseCode(1007))},
		{"compressed invalid utf8", steps(sendRsv(ws.OpText, 4, compressed(nil, []byte("ok\xff"))), expectCloseCode(1007))},
	}
}
