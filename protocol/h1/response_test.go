package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

var dateLine = regexp.MustCompile(`Date: [^\r]*\r\n`)

// bodyPart is one AppendBody call.
type bodyPart struct {
	body string
	more bool
}

// respCase describes one response and the exact bytes expected (Date normalised to D).
type respCase struct {
	name       string
	minor      int
	head       bool
	keepAlive  bool
	status     int
	headers    asgi.Headers
	trailers   asgi.Headers // nil: none announced
	parts      []bodyPart
	setClose   bool
	want       string
	wantAlive  bool
	skipClient bool // net/http cannot read it (e.g. 1xx as final response)
}

func TestResponseFraming(t *testing.T) {
	ct := asgi.H("Content-Type", "text/plain")
	tests := []respCase{
		{name: "single body gets content-length", minor: 1, keepAlive: true, status: 200, headers: ct,
			parts:     []bodyPart{{"hello", false}},
			want:      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: D\r\nServer: asgo\r\n\r\nhello",
			wantAlive: true},
		{name: "empty final body", minor: 1, keepAlive: true, status: 404, parts: []bodyPart{{"", false}},
			want:      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
		{name: "streaming HTTP/1.1 is chunked", minor: 1, keepAlive: true, status: 200,
			parts:     []bodyPart{{"hello", true}, {"", true}, {" world!", true}, {"", false}},
			want:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: D\r\nServer: asgo\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n",
			wantAlive: true},
		{name: "streaming ends with data", minor: 1, keepAlive: true, status: 200,
			parts:     []bodyPart{{"ab", true}, {"cd", false}},
			want:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: D\r\nServer: asgo\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n",
			wantAlive: true},
		{name: "chunked trailers", minor: 1, keepAlive: true, status: 200, headers: asgi.H("Trailer", "X-Sum"),
			trailers:  asgi.H("X-Sum", "42"),
			parts:     []bodyPart{{"data", false}},
			want:      "HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\nDate: D\r\nServer: asgo\r\n\r\n4\r\ndata\r\n0\r\nX-Sum: 42\r\n\r\n",
			wantAlive: true},
		{name: "trailers dropped with content-length", minor: 1, keepAlive: true, status: 200, headers: asgi.H("Content-Length", "4"),
			trailers:  asgi.H("X-Sum", "42"),
			parts:     []bodyPart{{"da", true}, {"ta", false}},
			want:      "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nDate: D\r\nServer: asgo\r\n\r\ndata",
			wantAlive: true},
		{name: "app content-length passed through", minor: 1, keepAlive: true, status: 200, headers: asgi.H("content-length", "6"),
			parts:     []bodyPart{{"abc", true}, {"def", false}},
			want:      "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nDate: D\r\nServer: asgo\r\n\r\nabcdef",
			wantAlive: true},
		{name: "HTTP/1.0 streaming is close-delimited", minor: 0, keepAlive: true, status: 200,
			parts: []bodyPart{{"ab", true}, {"cd", false}},
			want:  "HTTP/1.0 200 OK\r\nDate: D\r\nServer: asgo\r\nConnection: close\r\n\r\nabcd"},
		{name: "HTTP/1.0 keep-alive", minor: 0, keepAlive: true, status: 200, parts: []bodyPart{{"ok", false}},
			want:      "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nDate: D\r\nServer: asgo\r\nConnection: keep-alive\r\n\r\nok",
			wantAlive: true},
		{name: "HTTP/1.0 without keep-alive", minor: 0, status: 200, parts: []bodyPart{{"ok", false}},
			want: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nDate: D\r\nServer: asgo\r\nConnection: close\r\n\r\nok"},
		{name: "HEAD final body gives its length", minor: 1, head: true, keepAlive: true, status: 200,
			parts:     []bodyPart{{"hello", false}},
			want:      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
		{name: "HEAD streaming has no framing", minor: 1, head: true, keepAlive: true, status: 200,
			parts:     []bodyPart{{"hello", true}, {"", false}},
			want:      "HTTP/1.1 200 OK\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
		{name: "HEAD keeps app content-length", minor: 1, head: true, keepAlive: true, status: 200, headers: asgi.H("Content-Length", "100"),
			parts:     []bodyPart{{"", false}},
			want:      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
		{name: "HEAD HTTP/1.0 streaming stays alive", minor: 0, head: true, keepAlive: true, status: 200,
			parts:     []bodyPart{{"x", true}, {"", false}},
			want:      "HTTP/1.0 200 OK\r\nDate: D\r\nServer: asgo\r\nConnection: keep-alive\r\n\r\n",
			wantAlive: true},
		{name: "204 drops body and content-length", minor: 1, keepAlive: true, status: 204, headers: asgi.H("Content-Length", "3"),
			parts:     []bodyPart{{"abc", false}},
			want:      "HTTP/1.1 204 No Content\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
		{name: "304 keeps content-length, no body", minor: 1, keepAlive: true, status: 304, headers: asgi.H("Content-Length", "3", "ETag", `"x"`),
			parts:     []bodyPart{{"abc", false}},
			want:      "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 3\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
		{name: "1xx has no framing", minor: 1, keepAlive: true, status: 103, headers: asgi.H("Link", "</a>"),
			parts:     []bodyPart{{"x", false}},
			want:      "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true, skipClient: true},
		{name: "set close", minor: 1, keepAlive: true, status: 200, setClose: true, parts: []bodyPart{{"x", false}},
			want: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: D\r\nServer: asgo\r\nConnection: close\r\n\r\nx"},
		{name: "app connection close", minor: 1, keepAlive: true, status: 200, headers: asgi.H("Connection", "Close"),
			parts: []bodyPart{{"x", false}},
			want:  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: D\r\nServer: asgo\r\nConnection: close\r\n\r\nx"},
		{name: "app connection keep-alive is not copied", minor: 1, status: 200, headers: asgi.H("Connection", "keep-alive"),
			parts: []bodyPart{{"x", false}},
			want:  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: D\r\nServer: asgo\r\nConnection: close\r\n\r\nx"},
		{name: "app date and server kept", minor: 1, keepAlive: true, status: 200,
			headers:   asgi.H("date", "Thu, 01 Jan 1970 00:00:00 GMT", "server", "mine"),
			parts:     []bodyPart{{"", false}},
			want:      "HTTP/1.1 200 OK\r\ndate: Thu, 01 Jan 1970 00:00:00 GMT\r\nserver: mine\r\nContent-Length: 0\r\n\r\n",
			wantAlive: true},
		{name: "app transfer-encoding chunked dropped", minor: 1, keepAlive: true, status: 200, headers: asgi.H("Transfer-Encoding", "chunked"),
			parts:     []bodyPart{{"x", false}},
			want:      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: D\r\nServer: asgo\r\n\r\nx",
			wantAlive: true},
		{name: "unknown status", minor: 1, keepAlive: true, status: 599, parts: []bodyPart{{"", false}},
			want:      "HTTP/1.1 599 \r\nContent-Length: 0\r\nDate: D\r\nServer: asgo\r\n\r\n",
			wantAlive: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runResponse(t, tt)
			if got := dateLine.ReplaceAllString(string(out), "Date: D\r\n"); got != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
			if !tt.skipClient {
				checkWithNetHTTP(t, tt, out)
			}
		})
	}
}

func runResponse(t *testing.T, tt respCase) []byte {
	t.Helper()
	var r Response
	if err := r.Begin(tt.minor, tt.head, tt.keepAlive, tt.status, tt.headers, tt.trailers != nil); err != nil {
		t.Fatal(err)
	}
	if tt.setClose {
		r.SetClose()
	}
	var out []byte
	var err error
	for i, part := range tt.parts {
		if r.Done() || (i > 0) != r.HeadWritten() {
			t.Fatalf("part %d: Done %v HeadWritten %v", i, r.Done(), r.HeadWritten())
		}
		if out, err = r.AppendBody(out, []byte(part.body), part.more); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if tt.trailers != nil {
		if r.Done() {
			t.Fatal("Done before trailers")
		}
		if out, err = r.AppendTrailers(out, tt.trailers); err != nil {
			t.Fatal(err)
		}
	}
	if !r.Done() || r.KeepAlive() != tt.wantAlive {
		t.Fatalf("Done %v KeepAlive %v, want alive %v", r.Done(), r.KeepAlive(), tt.wantAlive)
	}
	return out
}

// checkWithNetHTTP reads the bytes back with net/http's client parser: the framing must
// delimit exactly the body we meant, with nothing left over on a kept-alive connection.
func checkWithNetHTTP(t *testing.T, tt respCase, out []byte) {
	t.Helper()
	method := "GET"
	if tt.head {
		method = "HEAD"
	}
	br := bufio.NewReader(bytes.NewReader(out))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("net/http: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("net/http body: %v", err)
	}
	want := ""
	if !tt.head && tt.status != 204 && tt.status != 304 {
		for _, p := range tt.parts {
			want += p.body
		}
	}
	if string(body) != want {
		t.Fatalf("net/http read body %q, want %q", body, want)
	}
	if rest, _ := io.ReadAll(br); len(rest) != 0 {
		t.Fatalf("net/http left %q unread", rest)
	}
	if tt.trailers != nil && resp.ContentLength < 0 {
		if got := resp.Trailer.Get("X-Sum"); got != "42" {
			t.Fatalf("net/http trailer X-Sum = %q", got)
		}
	}
}

func TestResponseErrors(t *testing.T) {
	var r Response
	if _, err := r.AppendBody(nil, nil, false); err != ErrResponseNotBegun {
		t.Fatalf("before Begin: %v", err)
	}
	for _, tc := range []struct {
		name    string
		status  int
		headers asgi.Headers
		want    error
	}{
		{"CR in value", 200, asgi.H("X", "a\rb"), ErrResponseHeader},
		{"LF in value", 200, asgi.H("X", "a\nSet-Cookie: x"), ErrResponseHeader},
		{"NUL in value", 200, asgi.H("X", "a\x00"), ErrResponseHeader},
		{"invalid name", 200, asgi.H("X Y", "a"), ErrResponseHeader},
		{"empty name", 200, asgi.H("", "a"), ErrResponseHeader},
		{"status too small", 99, nil, ErrResponseStatus},
		{"status too large", 1000, nil, ErrResponseStatus},
		{"invalid content-length", 200, asgi.H("Content-Length", "x"), ErrResponseContentLength},
		{"conflicting content-length", 200, asgi.H("Content-Length", "1", "Content-Length", "2"), ErrResponseContentLength},
		{"transfer-encoding gzip", 200, asgi.H("Transfer-Encoding", "gzip"), ErrResponseTransferEncoding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Response
			if err := r.Begin(1, false, true, tc.status, tc.headers, false); err != tc.want {
				t.Fatalf("Begin: %v, want %v", err, tc.want)
			}
			if _, err := r.AppendBody(nil, nil, false); err != ErrResponseNotBegun {
				t.Fatalf("AppendBody after failed Begin: %v", err)
			}
		})
	}
}

func TestResponseBodyLengthMismatch(t *testing.T) {
	var r Response
	r.Begin(1, false, true, 200, asgi.H("Content-Length", "3"), false)
	out, err := r.AppendBody(nil, []byte("ab"), true)
	if err != nil {
		t.Fatal(err)
	}
	n := len(out)
	if out, err = r.AppendBody(out, []byte("cd"), true); err != ErrBodyTooLong || len(out) != n {
		t.Fatalf("too long: %v, appended %d bytes", err, len(out)-n)
	}
	r.Begin(1, false, true, 200, asgi.H("Content-Length", "3"), false)
	if out, err = r.AppendBody(nil, []byte("ab"), false); err != ErrBodyTooShort || !bytes.HasSuffix(out, []byte("\r\n\r\nab")) {
		t.Fatalf("too short: %v %q", err, out)
	}
	if _, err = r.AppendBody(nil, []byte("c"), false); err != ErrResponseComplete {
		t.Fatalf("after last body: %v", err)
	}
}

// TestWireComplete: a response is complete on the wire at its last body, or as soon as
// its framing admits no more bytes.
func TestWireComplete(t *testing.T) {
	cases := []struct {
		name    string
		minor   int
		head    bool
		status  int
		headers asgi.Headers
		parts   []bodyPart
		want    []bool // after each part
	}{
		{"length reached before the last body", 1, false, 200, asgi.H("Content-Length", "5"),
			[]bodyPart{{"he", true}, {"llo", true}, {"", false}}, []bool{false, true, true}},
		{"chunked ends with the last body", 1, false, 200, nil,
			[]bodyPart{{"hello", true}, {"", false}}, []bool{false, true}},
		{"close-delimited ends with the last body", 0, false, 200, nil,
			[]bodyPart{{"hello", true}, {"", false}}, []bool{false, true}},
		{"HEAD has no body", 1, true, 200, nil,
			[]bodyPart{{"hello", true}, {"", false}}, []bool{true, true}},
		{"204 has no body", 1, false, 204, nil,
			[]bodyPart{{"", true}, {"", false}}, []bool{true, true}},
	}
	for _, tc := range cases {
		var r Response
		if err := r.Begin(tc.minor, tc.head, true, tc.status, tc.headers, false); err != nil {
			t.Fatal(err)
		}
		if r.WireComplete() {
			t.Errorf("%s: complete before any body", tc.name)
		}
		for i, p := range tc.parts {
			if _, err := r.AppendBody(nil, []byte(p.body), p.more); err != nil {
				t.Fatalf("%s: part %d: %v", tc.name, i, err)
			}
			if got := r.WireComplete(); got != tc.want[i] {
				t.Errorf("%s: after part %d: complete %v, want %v", tc.name, i, got, tc.want[i])
			}
		}
	}
}

func TestResponseTrailerErrors(t *testing.T) {
	var r Response
	r.Begin(1, false, true, 200, nil, false)
	r.AppendBody(nil, nil, false)
	if _, err := r.AppendTrailers(nil, asgi.H("X", "1")); err != ErrResponseComplete {
		t.Fatalf("unannounced trailers: %v", err)
	}
	r.Begin(1, false, true, 200, nil, true)
	r.AppendBody(nil, []byte("x"), true)
	if _, err := r.AppendTrailers(nil, asgi.H("X", "1")); err != ErrTrailersNotExpected {
		t.Fatalf("trailers before last body: %v", err)
	}
	r.AppendBody(nil, nil, false)
	if _, err := r.AppendTrailers(nil, asgi.H("X", "a\r\nb")); err != ErrResponseHeader {
		t.Fatalf("CRLF in trailer: %v", err)
	}
}

func TestTrailersInParts(t *testing.T) {
	var r Response
	r.Begin(1, false, true, 200, nil, true)
	out, _ := r.AppendBody(nil, []byte("ab"), false)
	out, err := r.AppendTrailersPart(out, asgi.H("X-A", "1"))
	if err != nil || r.Done() {
		t.Fatalf("part: %v, Done %v", err, r.Done())
	}
	if out, err = r.AppendTrailers(out, asgi.H("X-B", "2")); err != nil || !r.Done() {
		t.Fatalf("last: %v, Done %v", err, r.Done())
	}
	body := out[bytes.Index(out, []byte("\r\n\r\n"))+4:]
	if want := "2\r\nab\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n"; string(body) != want {
		t.Fatalf("got %q, want %q", body, want)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	if resp.Trailer.Get("X-A") != "1" || resp.Trailer.Get("X-B") != "2" {
		t.Fatalf("net/http trailers %v", resp.Trailer)
	}
}

func TestSetCloseAfterHeadHasNoEffect(t *testing.T) {
	var r Response
	r.Begin(1, false, true, 200, nil, false)
	r.AppendBody(nil, []byte("x"), true)
	r.SetClose()
	if !r.KeepAlive() {
		t.Fatal("SetClose changed KeepAlive after the head was written")
	}
}

func TestAppendError(t *testing.T) {
	out := AppendError(nil, 431, "")
	got := dateLine.ReplaceAllString(string(out), "Date: D\r\n")
	want := "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 31\r\n" +
		"Connection: close\r\nDate: D\r\nServer: asgo\r\n\r\nRequest Header Fields Too Large"
	if got != want {
		t.Fatalf("got %q", got)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(AppendError(nil, 400, "h1: bare CR in request head"))), nil)
	if err != nil || resp.StatusCode != 400 || !resp.Close {
		t.Fatalf("net/http: %v %+v", err, resp)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != "h1: bare CR in request head" {
		t.Fatalf("body %q", body)
	}
}

func TestStatusText(t *testing.T) {
	for code, want := range map[int]string{200: "OK", 404: "Not Found", 505: "HTTP Version Not Supported", 299: "", 99: "", 600: "", -1: ""} {
		if got := StatusText(code); got != want {
			t.Errorf("%d: %q", code, got)
		}
	}
	for code := 100; code < 600; code++ {
		if want := http.StatusText(code); want != "" && StatusText(code) == "" {
			t.Errorf("%d: missing text %q", code, want)
		}
	}
}

func TestDateIsCurrentAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				d := appendDate(nil)
				ts, err := http.ParseTime(string(d))
				if err != nil || len(d) != dateLen {
					t.Errorf("bad date %q: %v", d, err)
					return
				}
				if diff := time.Since(ts); diff < -time.Second || diff > 2*time.Second {
					t.Errorf("date %q is %v off", d, diff)
					return
				}
			}
		}()
	}
	wg.Wait()
	if !strings.HasSuffix(string(appendDate(nil)), " GMT") {
		t.Fatal("not GMT")
	}
}

// TestSetNowStatesItsSecond: SetNow gives the Date field (a cached second or not), and
// Begin clears it, so the next response reads the clock again.
func TestSetNowStatesItsSecond(t *testing.T) {
	for _, at := range []time.Time{time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC), time.Now()} {
		var r Response
		if err := r.Begin(1, false, true, 200, nil, false); err != nil {
			t.Fatal(err)
		}
		r.SetNow(at.In(time.FixedZone("X", 3600)))
		out, err := r.AppendBody(nil, nil, false)
		if want := "\r\nDate: " + at.UTC().Format(timeFormat) + "\r\n"; err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("SetNow(%v): %q, %v; want %q", at, out, err, want)
		}
	}
	var r Response
	r.SetNow(time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC))
	if err := r.Begin(1, false, true, 200, nil, false); err != nil {
		t.Fatal(err)
	}
	if out, _ := r.AppendBody(nil, nil, false); strings.Contains(string(out), "2001") {
		t.Fatalf("Begin kept an earlier SetNow: %q", out)
	}
}

func TestAppendEarlyHints(t *testing.T) {
	got := string(AppendEarlyHints([]byte("x"), [][]byte{[]byte("</a.css>; rel=preload; as=style"), []byte("bad\r\nSet-Cookie: y"), []byte("</b.js>; rel=preload; as=script")}))
	want := "xHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style\r\nLink: </b.js>; rel=preload; as=script\r\n\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
