package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzDifferential compares the first request of an input with net/http's server-side
// reader: when both accept it, they must agree on method, target, host, framing, body
// and header values. (Where they differ in what they accept, we are the stricter one by
// design; those inputs are not compared.)
func FuzzDifferential(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, _ uint64) {
		ours := feed(Config{}, data, feedModes[0].next(0))
		if len(ours.msgs) == 0 || !ours.msgs[0].ended {
			return
		}
		req, body, ok := readNetHTTP(data)
		if !ok {
			return
		}
		compareRequests(t, ours.msgs[0], req, body)
	})
}

// readNetHTTP reads the first request and its whole body with net/http.
func readNetHTTP(data []byte) (*http.Request, []byte, bool) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, nil, false
	}
	body, err := io.ReadAll(req.Body)
	return req, body, err == nil
}

func compareRequests(t *testing.T, m message, req *http.Request, body []byte) {
	r := m.req
	switch {
	case r.Method != req.Method:
		t.Fatalf("method %q, net/http %q", r.Method, req.Method)
	case r.Target != req.RequestURI:
		t.Fatalf("target %q, net/http %q", r.Target, req.RequestURI)
	case r.Host != req.Host:
		t.Fatalf("host %q, net/http %q", r.Host, req.Host)
	case r.Chunked != (len(req.TransferEncoding) > 0):
		t.Fatalf("chunked %v, net/http %v", r.Chunked, req.TransferEncoding)
	case m.body != string(body):
		t.Fatalf("body %q, net/http %q", m.body, body)
	case r.KeepAlive == req.Close:
		t.Fatalf("keep-alive %v, net/http close %v", r.KeepAlive, req.Close)
	}
	for name, values := range req.Header {
		if got, want := headerValues(r.Headers, strings.ToLower(name)), strings.Join(values, ","); got != want {
			t.Fatalf("header %s: %q, net/http %q", name, got, want)
		}
	}
}

// headerValues joins the values of name from a reqInfo.Headers rendering.
func headerValues(rendered, name string) string {
	var vals []string
	for _, line := range strings.Split(rendered, "\n") {
		if n, v, ok := strings.Cut(line, ": "); ok && n == name {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, ",")
}

// TestDifferentialSeeds makes sure the differential check really compares: most seeds
// must be accepted by both parsers.
func TestDifferentialSeeds(t *testing.T) {
	compared := 0
	for _, s := range fuzzSeeds {
		ours := feed(Config{}, []byte(s), feedModes[0].next(0))
		req, body, ok := readNetHTTP([]byte(s))
		if !ok || len(ours.msgs) == 0 || !ours.msgs[0].ended {
			continue
		}
		compareRequests(t, ours.msgs[0], req, body)
		compared++
	}
	if compared < 6 {
		t.Fatalf("only %d of %d seeds accepted by both parsers", compared, len(fuzzSeeds))
	}
}
