package eventloop

import (
	"bytes"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/asgo-dev/asgo/protocol/websocket"
)

// readMessage reads one single-frame message and inflates it if it came compressed.
func (w *wsClient) readMessage() (op ws.OpCode, data []byte, compressed bool) {
	w.t.Helper()
	f := w.read()
	if !f.Header.Rsv1() {
		return f.Header.OpCode, f.Payload, false
	}
	data, err := wsflate.DefaultHelper.Decompress(f.Payload)
	if err != nil {
		w.t.Fatalf("inflate: %v", err)
	}
	return f.Header.OpCode, data, true
}

const deflateOffer = "Sec-WebSocket-Extensions: permessage-deflate"

// TestWebSocketInflateYieldsAndResumes inflates a 4 MiB message in 1 KiB slices, the
// loop yielding between them: the message is whole and the message behind it comes
// after it, in both modes; a ping sent behind it is answered (in event mode after the
// echo; in goroutine mode the loop's pong may overtake the app's echo).
func TestWebSocketInflateYieldsAndResumes(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxMessageSize: 4 << 20, CompressionSlice: 1 << 10}})
	payload := bytes.Repeat([]byte("yield and resume "), (4<<20)/17)
	for _, path := range []string{"/ws", "/ws-goroutine"} {
		t.Run(path, func(t *testing.T) {
			c := dialWS(t, ts, path, deflateOffer)
			c.writeRaw(bytes.Join([][]byte{frameBytes(ws.OpText, true, 4, compressed(t, payload), true),
				frameBytes(ws.OpPing, true, 0, []byte("behind"), true),
				frameBytes(ws.OpText, true, 0, []byte("after"), true)}, nil))
			var texts [][]byte
			pongs := 0
			for len(texts) < 2 || pongs == 0 {
				op, got, _ := c.readMessage()
				switch {
				case op == ws.OpPong && string(got) == "behind":
					pongs++
				case op == ws.OpText:
					texts = append(texts, got)
				default:
					t.Fatalf("unexpected %v frame of %d bytes", op, len(got))
				}
			}
			if !bytes.Equal(texts[0], payload) || string(texts[1]) != "after" {
				t.Fatalf("messages of %d and %d bytes", len(texts[0]), len(texts[1]))
			}
			c.close(1000, "")
			c.expectClose(1000)
		})
	}
}

// TestWebSocketInflateSharesTheLoop runs a client whose message inflates in 65,536
// slices and a bystander on the same (single) loop: the bystander's ping, sent after
// the big message, is answered before the big message is done (it fails with 1009 at
// the limit), because the loop yields between slices.
func TestWebSocketInflateSharesTheLoop(t *testing.T) {
	ts, _ := startWSServer(t, Config{Loops: 1, WebSocket: websocket.Config{MaxMessageSize: 64 << 20, CompressionSlice: 1 << 10}})
	bomb := frameBytes(ws.OpBinary, true, 4, compressed(t, make([]byte, 65<<20)), true)
	attacker := dialWS(t, ts, "/ws", deflateOffer)
	bystander := dialWS(t, ts, "/ws")
	start := time.Now()
	attacker.writeRaw(bomb)
	time.Sleep(20 * time.Millisecond) // let the inflation begin: ordering, not synchronisation
	bystander.frame(ws.OpPing, true, []byte("still there?"))
	bystander.expectMessage(ws.OpPong, []byte("still there?"))
	pong := time.Now()
	attacker.expectClose(1009)
	answered, ended := pong.Sub(start), time.Since(start)
	t.Logf("bystander's pong after %v, the bomb ended after %v", answered, ended)
	if answered > ended/2 {
		t.Fatalf("the bystander waited %v of the bomb's %v", answered, ended)
	}
}

// TestWebSocketInflateBudget closes a client whose messages inflate faster than
// MaxInflateRate with 1008, once the burst (one maximal message plus one second's
// worth) is used up.
func TestWebSocketInflateBudget(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxMessageSize: 1 << 20, MaxInflateRate: 64 << 10}})
	msg := bytes.Repeat([]byte{'z'}, 1<<20)
	c := dialWS(t, ts, "/ws-goroutine", deflateOffer)
	c.writeRaw(frameBytes(ws.OpBinary, true, 4, compressed(t, msg), true))
	if _, got, _ := c.readMessage(); len(got) != len(msg) {
		t.Fatalf("first message: %d bytes", len(got))
	}
	c.writeRaw(frameBytes(ws.OpBinary, true, 4, compressed(t, msg), true))
	c.expectClose(1008)
}

// TestWebSocketDeflateBudget sends outbound messages uncompressed once the connection's
// MaxDeflateRate budget is spent (goroutine mode, which compresses messages of any
// size off the loop), and event mode never compresses a message above
// CompressionSlice on the loop.
func TestWebSocketDeflateBudget(t *testing.T) {
	ts, _ := startWSServer(t, Config{WebSocket: websocket.Config{MaxMessageSize: 64 << 10, MaxDeflateRate: 16 << 10, CompressionSlice: 32 << 10}})
	msg := bytes.Repeat([]byte("compress me "), 5000) // 60,000 bytes
	c := dialWS(t, ts, "/ws-goroutine", deflateOffer)
	var got []bool
	for i := 0; i < 3; i++ {
		c.binary(msg)
		_, data, compressed := c.readMessage()
		if !bytes.Equal(data, msg) {
			t.Fatalf("echo %d: %d bytes", i, len(data))
		}
		got = append(got, compressed)
	}
	if !got[0] || got[2] { // the burst is 80 KiB: the first fits, the third cannot
		t.Fatalf("compressed: %v, want the first compressed and the third not", got)
	}
	e := dialWS(t, ts, "/ws", deflateOffer)
	e.binary(msg)
	if _, data, compressed := e.readMessage(); compressed || !bytes.Equal(data, msg) {
		t.Fatalf("event mode echo of %d bytes: compressed %v (slice 32 KiB)", len(data), compressed)
	}
	e.binary(msg[:20000])
	if _, data, compressed := e.readMessage(); !compressed || len(data) != 20000 {
		t.Fatalf("event mode echo of %d bytes: compressed %v", len(data), compressed)
	}
}
