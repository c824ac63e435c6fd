package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// TestLargeBodiesByReference: bodies large enough to go by reference reach the client
// intact with each framing, while the app overwrites its buffer as soon as send
// returns (Send does not retain it) and the client reads slowly, so the socket does
// not take a body at once and gnet keeps the rest.
func TestLargeBodiesByReference(t *testing.T) {
	const part = 3 * minRefBody
	const parts = 6
	want := make([]byte, 0, part*parts)
	for i := range part * parts {
		want = append(want, byte(i*7+i>>11))
	}
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		s := scope.(*asgi.HTTPScope)
		var headers asgi.Headers
		if s.Path == "/length" {
			headers = asgi.H("content-length", strconv.Itoa(len(want)))
		}
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: headers}); err != nil {
			return err
		}
		buf := make([]byte, part)
		for i := range parts {
			copy(buf, want[i*part:])
			if err := send(ctx, &asgi.HTTPResponseBody{Body: buf, MoreBody: i < parts-1}); err != nil {
				return err
			}
			for j := range buf {
				buf[j] = 0xff // the server must have let go of it
			}
		}
		return nil
	})
	ts := startServer(t, Config{}, app)
	for _, path := range []string{"/length", "/chunked"} {
		t.Run(path, func(t *testing.T) {
			c := ts.dial(t)
			_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			br := bufio.NewReader(c)
			for range 2 { // keep-alive: the connection is reusable after such a response
				if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // the socket fills before the client reads
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				for {
					n, err := io.CopyN(h, resp.Body, 8<<10)
					if err != nil || n == 0 {
						break
					}
					time.Sleep(100 * time.Microsecond)
				}
				resp.Body.Close()
				if got := h.Sum(nil); !bytes.Equal(got, sha256OfBytes(want)) {
					t.Fatalf("body differs (chunked %v)", resp.TransferEncoding)
				}
			}
		})
	}
}

func sha256OfBytes(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
