package eventloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// robustApp answers with what the scope says: method, path, HTTP version, the host
// and content-length headers (every one of them) and the body it read.
var robustApp = asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	body, err := readBody(ctx, receive)
	if err != nil {
		return err
	}
	return respond(ctx, send, 200, fmt.Sprintf("%s %s %s host=%q content-length=%q body=%q",
		s.Method, s.Path, s.HTTPVersion, s.Headers.Values("host"), s.Headers.Values("content-length"), body))
})

// TestHTTP1Robustness sends each RFC 9110 / 9112 case over a real socket: accepted
// requests reach the app as the rules say and the connection stays open; refused ones
// get their status with Connection: close, then EOF.
func TestHTTP1Robustness(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) { http1Robustness(t, tr.start(t, Config{}, robustApp)) })
}

func http1Robustness(t *testing.T, ts *testServer) {
	tests := []struct {
		name, raw string
		status    int
		want      string // the app's answer, for 200
	}{
		{"CRLF before request line", "\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", 200, `GET /a 1.1 host=["x"] content-length=[] body=""`},
		{"bare LF before request line", "\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", 200, `GET /a 1.1 host=["x"] content-length=[] body=""`},
		{"eight empty lines before request line", strings.Repeat("\r\n", 8) + "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 200, `GET /a 1.1 host=["x"] content-length=[] body=""`},
		{"HTTP/1.2 served as HTTP/1.1", "GET /a HTTP/1.2\r\nHost: x\r\n\r\n", 200, `GET /a 1.1 host=["x"] content-length=[] body=""`},
		{"content-length list folded", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 200, `POST /a 1.1 host=["x"] content-length=["5"] body="hello"`},
		{"content-length fields folded", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 200, `POST /a 1.1 host=["x"] content-length=["5"] body="hello"`},
		{"absolute form authority replaces Host", "GET http://other.example/scope HTTP/1.1\r\nHost: x\r\n\r\n", 200, `GET /scope 1.1 host=["other.example"] content-length=[] body=""`},
		{"OPTIONS * reaches the app", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 200, `OPTIONS * 1.1 host=["x"] content-length=[] body=""`},

		{"nine empty lines before request line", strings.Repeat("\r\n", 9) + "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"HTTP/2.0 request line", "GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505, ""},
		{"lowercase version", "GET /a http/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"lowercase version after an empty line", "\r\nGET /a http/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"method not a token", "G(T /a HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"method with a non-ASCII byte", "G\xc3\x89T /a HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"raw non-ASCII byte in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"raw 0xff in target", "GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"control byte in target", "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"fragment in target", "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"double space in request line", "GET  /a HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"bare CR in request line", "GET /a\r HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
		{"asterisk without OPTIONS", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.dial(t)
			br := bufio.NewReader(c)
			method := strings.TrimLeft(tt.raw, "\r\n")[:3]
			resp := roundTrip(t, c, br, tt.raw, method)
			got := body(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, got, tt.status)
			}
			if tt.status != 200 {
				if !resp.Close { // net/http sets Close for Connection: close (and drops the field)
					t.Fatalf("%d without Connection: close: %v", tt.status, resp.Header)
				}
				if _, err := br.ReadByte(); err != io.EOF {
					t.Fatalf("connection not closed after %d: %v", tt.status, err)
				}
				return
			}
			if resp.ProtoMajor != 1 || resp.ProtoMinor != 1 || got != tt.want {
				t.Fatalf("HTTP/%d.%d %q\nwant HTTP/1.1 %q", resp.ProtoMajor, resp.ProtoMinor, got, tt.want)
			}
			// The connection stays usable.
			resp = roundTrip(t, c, br, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
			if got := body(t, resp); resp.StatusCode != 200 || !strings.HasPrefix(got, "GET /next 1.1") {
				t.Fatalf("next request: %d %q", resp.StatusCode, got)
			}
		})
	}
}
