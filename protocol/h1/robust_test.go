package h1

import (
	"strings"
	"testing"
)

// TestRobustness covers the RFC 9110 / RFC 9112 rules on what a server accepts and
// how it presents it: each input fed whole, byte by byte and in random chunks gives
// the same single request (want) or the same error (err).
func TestRobustness(t *testing.T) {
	get := func(extra string) string { return "GET / HTTP/1.1\r\nHost: h\r\n" + extra + "\r\n" }
	plain := reqInfo{Method: "GET", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1, Headers: "host: h\n", CL: -1, KeepAlive: true}
	post := func(headers string) reqInfo {
		return reqInfo{Method: "POST", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1, Headers: headers, CL: 5, KeepAlive: true}
	}
	tests := []struct {
		name string
		cfg  Config
		in   string
		want reqInfo
		body string
		err  *Error
	}{
		// RFC 9112 2.2: at least one empty line before the request line is ignored.
		{"CRLF before request line", Config{}, "\r\n" + get(""), plain, "", nil},
		{"bare LF before request line", Config{}, "\n" + get(""), plain, "", nil},
		{"CRLF and bare LF mixed before request line", Config{}, "\r\n\n\r\n" + get(""), plain, "", nil},
		{"eight empty lines before request line", Config{}, strings.Repeat("\r\n", 8) + get(""), plain, "", nil},
		{"nine empty lines before request line", Config{}, strings.Repeat("\n", 9) + get(""), reqInfo{}, "", ErrTooManyEmptyLines},
		{"empty lines count toward the head limit", Config{MaxHeadBytes: len(get("")) + 3}, "\r\n\r\n" + get(""), reqInfo{}, "", ErrHeadTooLarge},
		{"empty lines within the head limit", Config{MaxHeadBytes: len(get("")) + 4}, "\r\n\r\n" + get(""), plain, "", nil},

		// RFC 9110 6.2: a higher minor version is served as the highest we support.
		{"HTTP/1.2 served as HTTP/1.1", Config{}, "GET / HTTP/1.2\r\nHost: h\r\n\r\n", plain, "", nil},
		{"HTTP/1.9 served as HTTP/1.1", Config{}, "GET / HTTP/1.9\r\nHost: h\r\n\r\n", plain, "", nil},
		{"HTTP/1.2 needs Host like HTTP/1.1", Config{}, "GET / HTTP/1.2\r\n\r\n", reqInfo{}, "", ErrMissingHost},
		{"HTTP/2.0 request line", Config{}, "GET / HTTP/2.0\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrVersionNotSupported},
		{"HTTP/3.1 request line", Config{}, "GET / HTTP/3.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrVersionNotSupported},

		// RFC 9112 3: the request line's grammar; anything else is 400.
		{"lowercase version", Config{}, "GET / http/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidVersion},
		{"mixed-case version", Config{}, "GET / Http/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidVersion},
		{"method with a separator", Config{}, "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidMethod},
		{"method with a non-ASCII byte", Config{}, "G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidMethod},
		{"raw non-ASCII byte in target", Config{}, "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidTarget},
		{"raw 0xff in target", Config{}, "GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidTarget},
		{"raw non-ASCII byte in query", Config{}, "GET /a?q=\x80 HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidTarget},
		{"control byte in target", Config{}, "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidTarget},
		{"tab in target", Config{}, "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{}, "", ErrInvalidTarget},

		// RFC 9110 8.6: an accepted list of identical Content-Length values is one value.
		{"content-length list folded", Config{}, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
			post("host: h\ncontent-length: 5\n"), "hello", nil},
		{"content-length list of three folded", Config{}, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,5 ,\t5\r\n\r\nhello",
			post("host: h\ncontent-length: 5\n"), "hello", nil},
		{"content-length repeated fields folded", Config{}, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX: y\r\nContent-Length: 5, 5\r\n\r\nhello",
			post("host: h\ncontent-length: 5\nx: y\n"), "hello", nil},

		// RFC 9112 3.2.2: the authority of an absolute-form target replaces Host.
		{"absolute form replaces Host", Config{}, "GET http://other.example/scope HTTP/1.1\r\nHost: x\r\nX: y\r\n\r\n",
			reqInfo{Method: "GET", Target: "http://other.example/scope", Path: "/scope", QueryNil: true, Host: "other.example", Minor: 1,
				Headers: "host: other.example\nx: y\n", CL: -1, KeepAlive: true}, "", nil},
		{"absolute form adds Host to HTTP/1.0", Config{}, "GET http://other.example:8080/a?b HTTP/1.0\r\n\r\n",
			reqInfo{Method: "GET", Target: "http://other.example:8080/a?b", Path: "/a", Query: "b", Host: "other.example:8080",
				Headers: "host: other.example:8080\n", CL: -1}, "", nil},

		// RFC 9112 3.2.4: asterisk-form is passed on with path "*".
		{"OPTIONS *", Config{}, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
			reqInfo{Method: "OPTIONS", Target: "*", Path: "*", QueryNil: true, Host: "h", Minor: 1, Headers: "host: h\n", CL: -1, KeepAlive: true}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := feedAll(t, tt.cfg, tt.in)
			if tt.err != nil {
				if res.err != tt.err {
					t.Fatalf("got %s, want error %q", res.render(), tt.err.Reason)
				}
				if tt.err.Status != 400 && tt.err != ErrVersionNotSupported && tt.err != ErrHeadTooLarge {
					t.Fatalf("status %d", tt.err.Status)
				}
				return
			}
			if res.err != nil || len(res.msgs) != 1 || !res.msgs[0].ended {
				t.Fatalf("got %s, want one complete request", res.render())
			}
			if got := res.msgs[0]; got.req != tt.want || got.body != tt.body {
				t.Fatalf("got  %+v body %q\nwant %+v body %q", got.req, got.body, tt.want, tt.body)
			}
		})
	}
}
