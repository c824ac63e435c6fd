package eventloop

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// A streaming response that crosses the high-water mark on almost every send must
// never stall: each blocked sender is woken once the client has read the backlog,
// also when the loop flushed before the sender began to wait.
func TestBlockedSendAlwaysResumes(t *testing.T) {
	const chunk, chunks = 48 << 10, 1024
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		if _, ok := scope.(*asgi.HTTPScope); !ok {
			return nil
		}
		h := asgi.H("content-length", strconv.Itoa(chunk*chunks))
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: h}); err != nil {
			return err
		}
		b := make([]byte, chunk)
		for i := 0; i < chunks; i++ {
			if err := send(ctx, &asgi.HTTPResponseBody{Body: b, MoreBody: i < chunks-1}); err != nil {
				return err
			}
		}
		return nil
	})
	ts := startServer(t, Config{WriteHighWater: 32 << 10}, app)
	for round := 0; round < 4; round++ {
		c := ts.dial(t)
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// A reader slower than the server keeps output buffered in gnet, so most
		// sends find the connection above the high-water mark.
		var n int64
		buf := make([]byte, 8<<10)
		var err error
		for {
			var k int
			k, err = c.Read(buf)
			n += int64(k)
			if err != nil {
				break
			}
			if n%(256<<10) < 8<<10 {
				time.Sleep(time.Millisecond) // pacing: the scenario's slow reader
			}
		}
		if err == io.EOF {
			err = nil
		}
		if err != nil || n < chunk*chunks {
			t.Fatalf("round %d: read %d bytes of %d: %v", round, n, chunk*chunks, err)
		}
		c.Close()
	}
	// The client read every byte, so no send may have reported a disconnect.
	if logs := ts.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Fatalf("a complete response was logged as failed:\n%s", logs)
	}
}
