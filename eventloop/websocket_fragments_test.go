package eventloop

import (
	"bytes"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestWebSocketDefaultLimitIn64ByteFragments sends a message of exactly the default
// limit (16 MiB) as 64-byte fragments over a socket: the echo returns it whole and
// nothing is closed. Reassembly that copied the message once per fragment took
// minutes for this.
func TestWebSocketDefaultLimitIn64ByteFragments(t *testing.T) {
	ts, _ := startWSServer(t, Config{})
	wc := dialWS(t, ts, "/ws")
	size := 16 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	in := make([]byte, 0, size+size/64*6)
	for off := 0; off < size; off += 64 {
		op := ws.OpContinuation
		if off == 0 {
			op = ws.OpBinary
		}
		in = append(in, frameBytes(op, off+64 >= size, 0, payload[off:off+64], true)...)
	}
	start := time.Now()
	go wc.c.Write(in) // the echo is read while the message is still being sent
	wc.expectMessage(ws.OpBinary, payload)
	t.Logf("16 MiB in %d fragments echoed in %v", size/64, time.Since(start))
	wc.close(1000, "")
	wc.expectClose(1000)
}
