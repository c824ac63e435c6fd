package eventloop

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/websocket"
)

// TestWebSocketIdleConnectionMemory opens idle WebSockets to the echo app in event mode
// and measures the heap and stack they cost (server and the raw test clients
// together). An idle connection holds no goroutine, compressor, frame reader, buffer
// or scope: about 1.4 KiB here, of which the test's own client sockets are a third.
func TestWebSocketIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens hundreds of connections")
	}
	const n = 400
	ts, _ := startWSServer(t, Config{Loops: 1, WebSocket: websocket.Config{PingInterval: -1}})
	req := []byte(wsUpgradeRequest("/ws", "Sec-WebSocket-Extensions: permessage-deflate"))
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	open := func(k int) {
		for range k {
			c, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := c.Write(req); err != nil {
				t.Fatal(err)
			}
			readHead(t, c)
		}
	}
	open(20) // warm up pools and the executor
	before := memInUse()
	open(n)
	// Settling, not synchronisation: every handshake is done; the pause lets the
	// server's goroutines park before the sample (there is no condition to wait for).
	time.Sleep(100 * time.Millisecond)
	after := memInUse()
	per := (int64(after) - int64(before)) / n
	t.Logf("idle WebSocket connection (with permessage-deflate negotiated): %d bytes of heap+stack each, server and client", per)
	if per > 3<<10 {
		t.Fatalf("idle WebSocket connection costs %d bytes", per)
	}
}

// readHead reads a response head byte-wise-buffered without keeping a bufio.Reader.
func readHead(t *testing.T, c net.Conn) {
	var buf [512]byte
	var head []byte
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		k, err := c.Read(buf[:])
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		head = append(head, buf[:k]...)
		if err == io.EOF {
			break
		}
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101 ")) {
		t.Fatalf("handshake: %q", head)
	}
}

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
