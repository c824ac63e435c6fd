package eventloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// inlineEcho is an Inliner that echoes request bodies and records, per request, whether
// it ran on the loop (an inline call's ctx is never cancelled: Done is nil).
type inlineEcho struct {
	mu     sync.Mutex
	inline []bool
}

func (a *inlineEcho) Inline(asgi.Scope) bool { return true }

func (a *inlineEcho) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	a.mu.Lock()
	a.inline = append(a.inline, ctx.Done() == nil)
	a.mu.Unlock()
	body, err := readBody(ctx, receive)
	if err != nil {
		return err
	}
	return respond(ctx, send, 200, string(body))
}

func (a *inlineEcho) ran() []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.inline
	a.inline = nil
	return out
}

// TestInlineAppWithBufferedBody: an Inliner runs on the loop when its request's whole
// body came with the head (queued first, so receive never blocks), and on a goroutine
// when the body is still to come, is chunked or is over maxInlineBody; pipelined
// requests are answered in order either way.
func TestInlineAppWithBufferedBody(t *testing.T) {
	app := &inlineEcho{}
	ts := startServer(t, Config{}, app)
	post := func(body string) string {
		return fmt.Sprintf("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
	big := strings.Repeat("b", maxInlineBody+1)
	for _, tt := range []struct {
		name   string
		writes []string // written with a pause between
		bodies []string // the responses' bodies, in order
		inline []bool
	}{
		{"whole body", []string{post("hello")}, []string{"hello"}, []bool{true}},
		{"body later", []string{post("hello")[:len(post("hello"))-2], "lo"}, []string{"hello"}, []bool{false}},
		{"pipelined", []string{post("one") + "GET /g HTTP/1.1\r\nHost: x\r\n\r\n" + post("three")},
			[]string{"one", "", "three"}, []bool{true, true, true}},
		{"chunked", []string{"POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
			[]string{"hello"}, []bool{false}},
		{"over the inline limit", []string{post(big)}, []string{big}, []bool{false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial(t)
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			for i, w := range tt.writes {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				if _, err := io.WriteString(c, w); err != nil {
					t.Fatal(err)
				}
			}
			br := bufio.NewReader(c)
			for _, want := range tt.bodies {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != 200 || string(got) != want {
					t.Fatalf("status %d, body of %d bytes, want %d bytes", resp.StatusCode, len(got), len(want))
				}
				if n := resp.Header.Get("Content-Length"); n != strconv.Itoa(len(want)) {
					t.Fatalf("content-length %s", n)
				}
			}
			if got := app.ran(); fmt.Sprint(got) != fmt.Sprint(tt.inline) {
				t.Fatalf("inline %v, want %v", got, tt.inline)
			}
		})
	}
}
