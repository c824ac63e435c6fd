package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// FuzzResponse frames random responses and reads them back with net/http's client
// parser: the framing must deliver exactly the body sent, leave nothing unread on a
// kept-alive connection, and errors may only be Content-Length mismatches.
func FuzzResponse(f *testing.F) {
	f.Add(uint16(200), uint8(5), int16(-1), []byte("hello world"), []byte{3, 0, 4})
	f.Add(uint16(200), uint8(4), int16(-1), []byte("stream"), []byte{1, 1, 1})
	f.Add(uint16(204), uint8(5), int16(3), []byte("abc"), []byte{})
	f.Add(uint16(304), uint8(5), int16(3), []byte(""), []byte{})
	f.Add(uint16(200), uint8(7), int16(5), []byte("hello"), []byte{2})
	f.Add(uint16(500), uint8(13), int16(-1), []byte("with trailers"), []byte{5})
	f.Fuzz(func(t *testing.T, status uint16, flags uint8, cl int16, body, cuts []byte) {
		st := 200 + int(status)%400
		minor, isHead, keepAlive, trailers := int(flags&1), flags&2 != 0, flags&4 != 0, flags&8 != 0
		var headers asgi.Headers
		if cl >= 0 {
			headers = asgi.H("Content-Length", strconv.Itoa(int(cl)))
		}
		var r Response
		if err := r.Begin(minor, isHead, keepAlive, st, headers, trailers); err != nil {
			t.Fatalf("Begin: %v", err)
		}
		out, sent, ok := appendParts(t, &r, body, cuts, cl)
		if !ok {
			return
		}
		if trailers {
			var err error
			if out, err = r.AppendTrailers(out, asgi.H("X-T", "1")); err != nil {
				t.Fatalf("AppendTrailers: %v", err)
			}
		}
		if !r.Done() {
			t.Fatal("not Done after the last body and trailers")
		}
		readBack(t, &r, out, sent, isHead, st)
	})
}

// appendParts appends body cut at the lengths in cuts; ok is false after an allowed
// Content-Length mismatch error.
func appendParts(t *testing.T, r *Response, body, cuts []byte, cl int16) (out, sent []byte, ok bool) {
	for i := 0; ; i++ {
		n := len(body)
		if i < len(cuts) {
			n = min(n, int(cuts[i]))
		}
		more := i < len(cuts)
		var err error
		out, err = r.AppendBody(out, body[:n], more)
		if err == ErrBodyTooLong || err == ErrBodyTooShort {
			if cl < 0 {
				t.Fatalf("%v without a declared Content-Length", err)
			}
			return nil, nil, false
		}
		if err != nil {
			t.Fatalf("AppendBody: %v", err)
		}
		sent = append(sent, body[:n]...)
		body = body[n:]
		if !more {
			return out, sent, true
		}
	}
}

func readBack(t *testing.T, r *Response, out, sent []byte, isHead bool, status int) {
	method := "GET"
	if isHead {
		method = "HEAD"
	}
	br := bufio.NewReader(bytes.NewReader(out))
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("net/http: %v\n%q", err, out)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("net/http body: %v\n%q", err, out)
	}
	if isHead || status == 204 || status == 304 {
		sent = nil
	}
	if !bytes.Equal(got, sent) {
		t.Fatalf("body %q, sent %q\n%q", got, sent, out)
	}
	if rest, _ := io.ReadAll(br); r.KeepAlive() && len(rest) != 0 {
		t.Fatalf("%d bytes after the response on a kept-alive connection\n%q", len(rest), out)
	}
	if r.KeepAlive() == resp.Close {
		t.Fatalf("KeepAlive %v but net/http Close %v\n%q", r.KeepAlive(), resp.Close, out)
	}
}
