package h1

import (
	"strings"
	"testing"
)

const (
	reqPost    = "POST / HTTP/1.1\r\nHost: h\r\n"
	reqChunked = reqPost + "Transfer-Encoding: chunked\r\n\r\n"
)

// TestStrictness feeds every refused input whole, byte by byte and in random chunks
// and checks it fails with its own sentinel.
func TestStrictness(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		in   string
		want *Error
	}{
		// Content-Length and Transfer-Encoding.
		{"content-length with transfer-encoding", Config{}, reqPost + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ErrContentLengthWithTE},
		{"transfer-encoding with content-length", Config{}, reqPost + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", ErrContentLengthWithTE},
		{"content-length not a number", Config{}, reqPost + "Content-Length: abc\r\n\r\n", ErrInvalidContentLength},
		{"content-length negative", Config{}, reqPost + "Content-Length: -1\r\n\r\n", ErrInvalidContentLength},
		{"content-length plus sign", Config{}, reqPost + "Content-Length: +5\r\n\r\n", ErrInvalidContentLength},
		{"content-length empty", Config{}, reqPost + "Content-Length:\r\n\r\n", ErrInvalidContentLength},
		{"content-length inner space", Config{}, reqPost + "Content-Length: 1 2\r\n\r\n", ErrInvalidContentLength},
		{"content-length empty list element", Config{}, reqPost + "Content-Length: 5,\r\n\r\n", ErrInvalidContentLength},
		{"content-length overflow", Config{}, reqPost + "Content-Length: 99999999999999999999\r\n\r\n", ErrInvalidContentLength},
		{"content-length conflicting fields", Config{}, reqPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", ErrConflictingContentLength},
		{"content-length conflicting list", Config{}, reqPost + "Content-Length: 5, 6\r\n\r\n", ErrConflictingContentLength},
		{"transfer-encoding gzip then chunked", Config{}, reqPost + "Transfer-Encoding: gzip, chunked\r\n\r\n", ErrUnsupportedTransferEncoding},
		{"transfer-encoding unknown", Config{}, reqPost + "Transfer-Encoding: foo\r\n\r\n", ErrUnsupportedTransferEncoding},
		{"transfer-encoding chunked then gzip", Config{}, reqPost + "Transfer-Encoding: chunked, gzip\r\n\r\n", ErrChunkedNotFinal},
		{"transfer-encoding chunked twice", Config{}, reqPost + "Transfer-Encoding: chunked, chunked\r\n\r\n", ErrChunkedNotFinal},
		{"transfer-encoding split fields", Config{}, reqPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", ErrChunkedNotFinal},
		{"transfer-encoding empty", Config{}, reqPost + "Transfer-Encoding:\r\n\r\n", ErrChunkedNotFinal},
		{"transfer-encoding in HTTP/1.0", Config{}, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTransferEncodingHTTP10},

		// Line syntax.
		{"obs-fold", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", ErrObsFold},
		{"obs-fold with tab", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", ErrObsFold},
		{"first field line starts with space", Config{}, "GET / HTTP/1.1\r\n Host: h\r\n\r\n", ErrObsFold},
		{"bare CR in value", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", ErrBareCR},
		{"bare CR in name", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX\r: b\r\n\r\n", ErrBareCR},
		{"bare CR in request line", Config{}, "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", ErrBareCR},
		{"bare CR ending request line", Config{}, "GET / HTTP/1.1\rHost: h\r\n\r\n", ErrBareCR},
		{"CR CR LF", Config{}, "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", ErrBareCR},
		{"bare CR in leading empty line", Config{}, "\r\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", ErrBareCR},

		// Fields.
		{"header name with space", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX Y: z\r\n\r\n", ErrInvalidHeaderName},
		{"header name not a token", Config{}, "GET / HTTP/1.1\r\nHost: h\r\n(x): y\r\n\r\n", ErrInvalidHeaderName},
		{"header name empty", Config{}, "GET / HTTP/1.1\r\nHost: h\r\n: y\r\n\r\n", ErrInvalidHeaderName},
		{"header without colon", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", ErrInvalidHeaderName},
		{"space before colon", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n", ErrSpaceBeforeColon},
		{"tab before colon", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n", ErrSpaceBeforeColon},
		{"header value NUL", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", ErrInvalidHeaderValue},
		{"header value DEL", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", ErrInvalidHeaderValue},
		{"header value control", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n", ErrInvalidHeaderValue},
		{"header value control in long value", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: abcdefghijklmnop\x1fqrstuvwxyz\r\n\r\n", ErrInvalidHeaderValue},
		{"header value DEL in long value", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: abcdefghijklmnopq\x7frstuvwxyz\r\n\r\n", ErrInvalidHeaderValue},
		{"header value NUL after obs-text", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: \xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x00\r\n\r\n", ErrInvalidHeaderValue},
		{"chunk extension escape at end", Config{}, reqChunked + "3;a=\"x\\\r\nabc\r\n", ErrInvalidChunkExtension},
		{"missing host", Config{}, "GET / HTTP/1.1\r\nX: y\r\n\r\n", ErrMissingHost},
		{"missing host with absolute form", Config{}, "GET http://h/ HTTP/1.1\r\n\r\n", ErrMissingHost},
		{"two hosts", Config{}, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", ErrMultipleHost},
		{"host with space", Config{}, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ErrInvalidHost},
		{"host with path", Config{}, "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ErrInvalidHost},
		{"host with userinfo", Config{}, "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", ErrInvalidHost},

		// Request line.
		{"HTTP/2.0", Config{}, "GET / HTTP/2.0\r\nHost: h\r\n\r\n", ErrVersionNotSupported},
		{"HTTP/3.0", Config{}, "GET / HTTP/3.0\r\nHost: h\r\n\r\n", ErrVersionNotSupported},
		{"HTTP/0.9", Config{}, "GET / HTTP/0.9\r\n\r\n", ErrVersionNotSupported},
		{"version without minor", Config{}, "GET / HTTP/1\r\nHost: h\r\n\r\n", ErrInvalidVersion},
		{"version lower case", Config{}, "GET / http/1.1\r\nHost: h\r\n\r\n", ErrInvalidVersion},
		{"version trailing space", Config{}, "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", ErrInvalidVersion},
		{"request line without version", Config{}, "GET /\r\n\r\n", ErrInvalidRequestLine},
		{"request line leading space", Config{}, " GET / HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidRequestLine},
		{"method not a token", Config{}, "G@T / HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidMethod},
		{"method with control", Config{}, "G\x01T / HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidMethod},
		{"double space before target", Config{}, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"target with space", Config{}, "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"target with control", Config{}, "GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"target with fragment", Config{}, "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"absolute form with fragment", Config{}, "GET http://h#frag HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"target with DEL", Config{}, "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"asterisk without OPTIONS", Config{}, "GET * HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"absolute form other scheme", Config{}, "GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"absolute form userinfo", Config{}, "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"absolute form empty authority", Config{}, "GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"target without slash", Config{}, "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"CONNECT without port", Config{}, "CONNECT example.org HTTP/1.1\r\nHost: h\r\n\r\n", ErrInvalidTarget},
		{"too many empty lines", Config{}, strings.Repeat("\r\n", 9) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n", ErrTooManyEmptyLines},

		// Limits.
		{"request line too long", Config{MaxRequestLine: 20}, "GET /" + strings.Repeat("a", 20) + " HTTP/1.1\r\nHost: h\r\n\r\n", ErrRequestLineTooLong},
		{"request line too long default", Config{}, "GET /" + strings.Repeat("a", 8<<10) + " HTTP/1.1\r\nHost: h\r\n\r\n", ErrRequestLineTooLong},
		{"request line too long before head too large", Config{MaxHeadBytes: 40, MaxRequestLine: 30}, "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\n\r\n", ErrRequestLineTooLong},
		{"request line too long without LF", Config{MaxRequestLine: 20}, "GET /" + strings.Repeat("a", 30), ErrRequestLineTooLong},
		{"head too large", Config{MaxHeadBytes: 100}, "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n", ErrHeadTooLarge},
		{"head too large default", Config{}, "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", ErrHeadTooLarge},
		{"head too large without end", Config{MaxHeadBytes: 100}, "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 100), ErrHeadTooLarge},
		{"too many headers", Config{MaxHeaders: 3}, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", ErrTooManyHeaders},
		{"too many headers default", Config{}, "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("A: 1\r\n", 100) + "\r\n", ErrTooManyHeaders},

		// Chunked bodies.
		{"chunk size not hex", Config{}, reqChunked + "x\r\n", ErrInvalidChunkSize},
		{"chunk size empty", Config{}, reqChunked + "\r\n", ErrInvalidChunkSize},
		{"chunk size negative", Config{}, reqChunked + "-5\r\n", ErrInvalidChunkSize},
		{"chunk size leading space", Config{}, reqChunked + " 5\r\n", ErrInvalidChunkSize},
		{"chunk size trailing space", Config{}, reqChunked + "5 \r\n", ErrInvalidChunkExtension},
		{"chunk size 0x prefix", Config{}, reqChunked + "0x5\r\n", ErrInvalidChunkExtension},
		{"chunk size overflow", Config{}, reqChunked + "10000000000000000\r\n", ErrChunkSizeOverflow},
		{"chunk size 2^63", Config{}, reqChunked + "8000000000000000\r\n", ErrChunkSizeOverflow},
		{"chunk extension without name", Config{}, reqChunked + "3;\r\nabc\r\n", ErrInvalidChunkExtension},
		{"chunk extension empty name", Config{}, reqChunked + "3;=x\r\nabc\r\n", ErrInvalidChunkExtension},
		{"chunk extension empty value", Config{}, reqChunked + "3;a=\r\nabc\r\n", ErrInvalidChunkExtension},
		{"chunk extension unterminated quote", Config{}, reqChunked + "3;a=\"x\r\nabc\r\n", ErrInvalidChunkExtension},
		{"chunk extension two words", Config{}, reqChunked + "3;a b\r\nabc\r\n", ErrInvalidChunkExtension},
		{"chunk extension control byte", Config{}, reqChunked + "3;a=\"\x01\"\r\nabc\r\n", ErrInvalidChunkExtension},
		{"chunk line too long", Config{}, reqChunked + "3;a=" + strings.Repeat("b", 5000) + "\r\nabc\r\n", ErrChunkLineTooLong},
		{"chunk framing flood", Config{}, reqChunked + strings.Repeat("1;a="+strings.Repeat("b", 3000)+"\r\nx\r\n", 8), ErrChunkOverhead},
		{"missing CRLF after chunk data", Config{}, reqChunked + "3\r\nabcX\r\n0\r\n\r\n", ErrMissingChunkCRLF},
		{"LF only after chunk data", Config{}, reqChunked + "3\r\nabc\n0\r\n\r\n", ErrMissingChunkCRLF},
		{"CR then junk after chunk data", Config{}, reqChunked + "3\r\nabc\rX", ErrMissingChunkCRLF},
		{"bare LF after chunk size", Config{}, reqChunked + "3\nabc\r\n", ErrBareLFInChunked},
		{"bare LF ending trailer section", Config{}, reqChunked + "0\r\n\n", ErrBareLFInChunked},
		{"bare LF in trailer", Config{}, reqChunked + "0\r\nX: y\n\r\n", ErrBareLFInChunked},
		{"obs-fold in trailer", Config{}, reqChunked + "0\r\nX: y\r\n z\r\n\r\n", ErrObsFold},
		{"invalid trailer name", Config{}, reqChunked + "0\r\nX Y: z\r\n\r\n", ErrInvalidHeaderName},
		{"bare CR in trailer", Config{}, reqChunked + "0\r\nX: a\rb\r\n\r\n", ErrBareCR},
		{"too many trailers", Config{MaxHeaders: 2}, reqChunked + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", ErrTooManyTrailers},
		{"trailers too large", Config{MaxHeadBytes: 200}, reqChunked + "0\r\nX: " + strings.Repeat("a", 200) + "\r\n\r\n", ErrTrailersTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := feedAll(t, tt.cfg, tt.in)
			if res.err != tt.want {
				t.Fatalf("got %s, want error %q", res.render(), tt.want.Reason)
			}
		})
	}
}

func TestErrorStatuses(t *testing.T) {
	want := map[*Error]int{
		ErrContentLengthWithTE: 400, ErrInvalidContentLength: 400, ErrConflictingContentLength: 400,
		ErrObsFold: 400, ErrBareCR: 400, ErrInvalidChunkSize: 400, ErrChunkSizeOverflow: 400,
		ErrMissingChunkCRLF: 400, ErrInvalidHeaderName: 400, ErrSpaceBeforeColon: 400,
		ErrInvalidHeaderValue: 400, ErrMissingHost: 400, ErrMultipleHost: 400,
		ErrUnsupportedTransferEncoding: 501, ErrChunkedNotFinal: 400, ErrVersionNotSupported: 505,
		ErrInvalidMethod: 400, ErrInvalidTarget: 400, ErrHeadTooLarge: 431,
		ErrRequestLineTooLong: 414, ErrTooManyHeaders: 431,
	}
	for e, status := range want {
		if e.Status != status {
			t.Errorf("%s: status %d, want %d", e.Reason, e.Status, status)
		}
		if got := e.Error(); got != "h1: "+e.Reason {
			t.Errorf("Error() = %q", got)
		}
	}
}

func TestErrorIsSticky(t *testing.T) {
	var p Parser
	p.Init(Config{})
	_, _, err := p.Parse([]byte("GET / HTTP/9.9\r\n\r\n"))
	if err != ErrVersionNotSupported {
		t.Fatalf("got %v", err)
	}
	if _, _, err2 := p.Parse([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")); err2 != err || p.Err() != err {
		t.Fatalf("error not sticky: %v", err2)
	}
	p.Init(Config{})
	if _, ev, err := p.Parse([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")); ev != EventHead || err != nil {
		t.Fatalf("Init did not reset: %v %v", ev, err)
	}
}

// TestChunkSizeMax accepts the largest chunk size that fits in int64.
func TestChunkSizeMax(t *testing.T) {
	res := feedAll(t, Config{}, reqChunked+"7fffffffffffffff\r\nabc")
	if res.err != nil || res.render() != "H:POST / B:abc" {
		t.Fatalf("got %s", res.render())
	}
}

// TestLimitBoundaries accepts inputs exactly at each limit and refuses one byte (or
// field) more.
func TestLimitBoundaries(t *testing.T) {
	headOfSize := func(n int) string {
		base := "GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n"
		return strings.Replace(base, "X: ", "X: "+strings.Repeat("a", n-len(base)), 1)
	}
	lineOfSize := func(n int) string {
		return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: h\r\n\r\n"
	}
	headers := func(n int) string {
		return "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("A: 1\r\n", n-1) + "\r\n"
	}
	tests := []struct {
		name string
		cfg  Config
		in   string
		want *Error
	}{
		{"head at limit", Config{MaxHeadBytes: 200}, headOfSize(200), nil},
		{"head over limit", Config{MaxHeadBytes: 200}, headOfSize(201), ErrHeadTooLarge},
		{"request line at limit", Config{MaxRequestLine: 100}, lineOfSize(100), nil},
		{"request line over limit", Config{MaxRequestLine: 100}, lineOfSize(101), ErrRequestLineTooLong},
		{"headers at limit", Config{MaxHeaders: 10}, headers(10), nil},
		{"headers over limit", Config{MaxHeaders: 10}, headers(11), ErrTooManyHeaders},
		{"empty lines at limit", Config{}, strings.Repeat("\r\n", 8) + headers(1), nil},
		{"chunk line at limit", Config{}, reqChunked + "1;a=" + strings.Repeat("b", maxChunkLineBytes-4) + "\r\nx\r\n0\r\n\r\n", nil},
		{"chunk line over limit", Config{}, reqChunked + "1;a=" + strings.Repeat("b", maxChunkLineBytes-3) + "\r\nx\r\n0\r\n\r\n", ErrChunkLineTooLong},
		{"trailers at limit", Config{MaxHeadBytes: 100}, reqChunked + "0\r\nX: " + strings.Repeat("a", 100-7) + "\r\n\r\n", nil},
		{"trailers over limit", Config{MaxHeadBytes: 100}, reqChunked + "0\r\nX: " + strings.Repeat("a", 100-6) + "\r\n\r\n", ErrTrailersTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := feedAll(t, tt.cfg, tt.in)
			if tt.want == nil && res.err != nil || tt.want != nil && res.err != tt.want {
				t.Fatalf("got %s, want %v", res.render(), tt.want)
			}
			if tt.want == nil && (len(res.msgs) != 1 || !res.msgs[0].ended) {
				t.Fatalf("got %s, want one complete request", res.render())
			}
		})
	}
}
