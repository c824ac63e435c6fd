package eventloop

import (
	"testing"

	"github.com/gobwas/ws"

	"github.com/asgo-dev/asgo/protocol/websocket"
)

// BenchmarkWebSocketEchoRoundTrip measures one 64-byte text message to the echo app
// and back over loopback, one message in flight.
func BenchmarkWebSocketEchoRoundTrip(b *testing.B) {
	ts, _ := startWSServer(b, Config{Loops: 1, WebSocket: websocket.Config{PingInterval: -1}})
	c := dialWS(b, ts, "/ws")
	msg := frameBytes(ws.OpText, true, 0, make([]byte, 64), true)
	b.ReportAllocs()
	for b.Loop() {
		c.writeRaw(msg)
		if f := c.read(); len(f.Payload) != 64 {
			b.Fatalf("echo of %d bytes", len(f.Payload))
		}
	}
}

// BenchmarkWebSocketEchoPipelined measures throughput with 64 messages in flight.
func BenchmarkWebSocketEchoPipelined(b *testing.B) {
	ts, _ := startWSServer(b, Config{Loops: 1, WebSocket: websocket.Config{PingInterval: -1}})
	c := dialWS(b, ts, "/ws")
	one := frameBytes(ws.OpText, true, 0, make([]byte, 64), true)
	var batch []byte
	for range 64 {
		batch = append(batch, one...)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.writeRaw(batch)
		for range 64 {
			c.read()
		}
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "msgs/s")
}
