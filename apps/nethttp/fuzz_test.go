package nethttp

import (
	"context"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// FuzzNewRequest feeds arbitrary targets, root paths and header values to the request
// builder: it must refuse or build a request whose RequestURI is the target.
func FuzzNewRequest(f *testing.F) {
	f.Add("/a/b?c=d", "", "content-length", "3")
	f.Add("/app/x%2Fy", "/app", "transfer-encoding", "chunked")
	f.Add("*", "", "cookie", "a=1")
	f.Add("//x", "/", "content-length", "-1")
	f.Fuzz(func(t *testing.T, target, root, name, value string) {
		s := asgitest.NewHTTPScope("POST", target, "host", "h", strings.ToLower(name), value)
		s.RootPath = root
		r, err := newRequest(context.Background(), s, nil, nil)
		if err != nil {
			return
		}
		if r.RequestURI != target || r.URL == nil || r.Header.Get("Host") != "" {
			t.Fatalf("target %q: RequestURI %q URL %v", target, r.RequestURI, r.URL)
		}
		if r.ContentLength < -1 {
			t.Fatalf("ContentLength %d", r.ContentLength)
		}
	})
}
