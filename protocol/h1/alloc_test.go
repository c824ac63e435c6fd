package h1

import (
	"time"

	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

var getRequest = []byte("GET /plaintext?x=1 HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=abcdef0123456789; theme=dark\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"\r\n")

var postRequest = []byte("POST /upload HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"User-Agent: bench\r\n" +
	"Content-Type: application/json\r\n" +
	"Content-Length: 64\r\n" +
	"\r\n" +
	`{"name":"asgo","kind":"server","loops":2,"ok":true,"pad":"xxxxx"}`)

var chunkedRequest = []byte("POST /upload HTTP/1.1\r\n" +
	"Host: localhost:8080\r\n" +
	"Transfer-Encoding: chunked\r\n" +
	"\r\n" +
	"10;name=value\r\n0123456789abcdef\r\n" +
	"10\r\n0123456789abcdef\r\n" +
	"0\r\nX-Checksum: 1234\r\n\r\n")

// parseAll parses every message in data and returns the number of body bytes.
func parseAll(p *Parser, data []byte) int {
	body := 0
	for {
		n, ev, err := p.Parse(data)
		if err != nil {
			panic(err)
		}
		data = data[n:]
		switch ev {
		case EventBody:
			body += len(p.Body())
		case EventNone:
			if n == 0 {
				return body
			}
		}
	}
}

// warmInput copies in once: the parser lower-cases field names in place, so every run
// parses the same bytes as a fresh read would hold.
func warmInput(in []byte) (*Parser, []byte) {
	p := new(Parser)
	p.Init(Config{})
	buf := append([]byte(nil), in...)
	parseAll(p, buf)
	return p, buf
}

func TestParseZeroAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"GET with 10 headers", getRequest}, {"POST with Content-Length body", postRequest}, {"chunked with trailers", chunkedRequest}} {
		t.Run(tc.name, func(t *testing.T) {
			p, buf := warmInput(tc.in)
			allocs := testing.AllocsPerRun(1000, func() {
				copy(buf, tc.in)
				parseAll(p, buf)
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per request", allocs)
			}
		})
	}
}

func TestResponseZeroAllocs(t *testing.T) {
	headers := asgi.H("Content-Type", "text/plain")
	body := []byte("Hello, World!")
	var r Response
	dst := make([]byte, 0, 512)
	run := func() {
		if err := r.Begin(1, false, true, 200, headers, false); err != nil {
			panic(err)
		}
		out, err := r.AppendBody(dst[:0], body, false)
		if err != nil || !r.Done() || len(out) == 0 {
			panic(err)
		}
	}
	run()
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("%v allocations per response", allocs)
	}
}

// TestResponseBufferHandOffZeroAllocs covers a new Response per request (as the event
// loop makes one per request) reusing the head buffer of the previous one.
func TestResponseBufferHandOffZeroAllocs(t *testing.T) {
	headers := asgi.H("Content-Type", "text/plain", "X-Request-Id", "0123456789abcdef")
	body := []byte("Hello, World!")
	var spare []byte
	dst := make([]byte, 0, 512)
	run := func() {
		r := new(Response) // stays on the stack: the loop's streams are on the heap anyway
		r.UseBuffer(spare)
		if err := r.Begin(1, false, true, 200, headers, false); err != nil {
			panic(err)
		}
		if _, err := r.AppendBody(dst[:0], body, false); err != nil || !r.Done() {
			panic(err)
		}
		spare = r.TakeBuffer()
	}
	run()
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("%v allocations per response", allocs)
	}
}

func TestAppendErrorZeroAllocs(t *testing.T) {
	dst := make([]byte, 0, 512)
	if allocs := testing.AllocsPerRun(100, func() { AppendError(dst[:0], 400, "bad") }); allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

// TestDateRefreshZeroAllocs covers the once-per-second refresh of the cached Date.
func TestDateRefreshZeroAllocs(t *testing.T) {
	now := time.Now()
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		i++
		date.store(now.Add(time.Duration(i) * time.Second))
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per refresh", allocs)
	}
	date.store(time.Now())
}
