package h1

import (
	"strconv"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// TestAppendBodyHead: the framing around a body the caller writes itself is what
// AppendBody would have written around the same bytes, whole or in two parts.
func TestAppendBodyHead(t *testing.T) {
	const body = "0123456789"
	for _, tt := range []struct {
		name     string
		isHead   bool
		status   int
		headers  asgi.Headers
		trailers bool
		wantErr  error
	}{
		{name: "computed length", status: 200},
		{name: "declared length", status: 200, headers: asgi.H("content-length", "10")},
		{name: "chunked for trailers", status: 200, trailers: true},
		{name: "head", isHead: true, status: 200},
		{name: "304", status: 304},
		{name: "too long", status: 200, headers: asgi.H("content-length", "9"), wantErr: ErrBodyTooLong},
		{name: "too short", status: 200, headers: asgi.H("content-length", "11"), wantErr: ErrBodyTooShort},
	} {
		for _, split := range []int{0, 4} {
			t.Run(tt.name+"/split "+strconv.Itoa(split), func(t *testing.T) {
				var ref, r Response
				must := func(err error) {
					if err != nil {
						t.Fatal(err)
					}
				}
				must(ref.Begin(1, tt.isHead, true, tt.status, tt.headers, tt.trailers))
				must(r.Begin(1, tt.isHead, true, tt.status, tt.headers, tt.trailers))
				var want, got []byte
				var refErr, err error
				for _, part := range []struct {
					b    string
					more bool
				}{{body[:split], true}, {body[split:], false}} {
					if part.more && part.b == "" {
						continue
					}
					want, refErr = ref.AppendBody(want, []byte(part.b), part.more)
					var write bool
					got, write, err = r.AppendBodyHead(got, int64(len(part.b)), part.more)
					if err != nil || refErr != nil {
						break
					}
					if write {
						got = append(got, part.b...)
					}
					got = r.AppendBodyTail(got, int64(len(part.b)), part.more)
				}
				if err != tt.wantErr || refErr != tt.wantErr {
					t.Fatalf("error %v (AppendBody: %v), want %v", err, refErr, tt.wantErr)
				}
				if err != nil {
					return
				}
				// The Date fields may differ by a second.
				strip := func(b []byte) string {
					lines := strings.Split(string(b), "\r\n")
					for i, l := range lines {
						if strings.HasPrefix(l, "Date: ") {
							lines[i] = "Date:"
						}
					}
					return strings.Join(lines, "\r\n")
				}
				if strip(got) != strip(want) {
					t.Fatalf("got %q\nwant %q", got, want)
				}
				if r.Done() != ref.Done() {
					t.Fatalf("done %v, want %v", r.Done(), ref.Done())
				}
			})
		}
	}
}
