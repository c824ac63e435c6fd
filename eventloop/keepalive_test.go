package eventloop

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// A connection whose last response came from an app on a goroutine is idle once that
// response is done: the keep-alive timeout closes it, and a drain closes it at once.
func TestIdleAfterGoroutineResponse(t *testing.T) {
	for _, path := range []string{"/hello", "/stream-n"} {
		t.Run("keep-alive timeout"+path, func(t *testing.T) {
			ts := startServer(t, Config{KeepAliveTimeout: 200 * time.Millisecond}, nil)
			c := ts.dial(t)
			roundTripIdle(t, c, path)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := c.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("idle connection: read %d bytes, %v; want EOF from the keep-alive timeout", n, err)
			}
		})
		t.Run("drain"+path, func(t *testing.T) {
			ts := startServer(t, Config{}, nil)
			c := ts.dial(t)
			roundTripIdle(t, c, path)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ts.Shutdown(ctx); err != nil {
				t.Fatalf("drain with one idle connection: %v", err)
			}
		})
	}
}

func roundTripIdle(t *testing.T, c net.Conn, path string) {
	t.Helper()
	if path == "/stream-n" {
		path = "/stream?2" // chunked, several messages
	}
	resp := roundTrip(t, c, bufio.NewReader(c), "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	body(t, resp)
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("GET %s: %d close=%v", path, resp.StatusCode, resp.Close)
	}
}
