package nethttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/internal/testserver"
)

// TestSameResponsesOverTheWire compares, over real connections, the standard-library
// handlers served by net/http's own server and by asgo through the adapter.
func TestSameResponsesOverTheWire(t *testing.T) {
	h := compareMux()
	base := testserver.Start(t, eventloop.Config{}, New(h, Config{})).URL("")
	compareAll(t, h, func(t *testing.T, version string, c compareCase) result {
		return fetch(t, base, version, c)
	})
}

// expectContinue sends a request with Expect: 100-continue to addr, waits for the
// server's first reply, sends the body if that was 100 Continue, and returns the status
// lines seen.
func expectContinue(t *testing.T, addr, path string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(c)
	var lines []string
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, resp.Status)
		if resp.StatusCode != http.StatusContinue {
			b, _ := io.ReadAll(resp.Body)
			return append(lines, string(b))
		}
		io.WriteString(c, "hello")
	}
}

// TestExpectContinueAsNetHTTP: 100 Continue is sent only when the handler reads the
// body, through asgo as through net/http.
func TestExpectContinueAsNetHTTP(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
	mux.HandleFunc("/ignore", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ignored") })
	ref := httptest.NewServer(mux)
	defer ref.Close()
	asgo := testserver.Start(t, eventloop.Config{}, New(mux, Config{})).Addr
	for _, path := range []string{"/read", "/ignore"} {
		want := expectContinue(t, strings.TrimPrefix(ref.URL, "http://"), path)
		got := expectContinue(t, asgo, path)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: asgo %q, net/http %q", path, got, want)
		}
	}
}

// TestClientGoneCancelsContextOverTheWire closes the client connection while the
// handler waits; its request context must be cancelled.
func TestClientGoneCancelsContextOverTheWire(t *testing.T) {
	started, cancelled := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
		}
	})
	addr := testserver.Start(t, eventloop.Config{}, New(h, Config{})).Addr
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the request context was not cancelled after the client left")
	}
}

// TestFlushReachesTheClient: what a handler flushes arrives before the handler goes on,
// over HTTP/1.1 and HTTP/2 (the handler waits for the client to have read it).
func TestFlushReachesTheClient(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		seen := make(chan struct{})
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first\n")
			w.(http.Flusher).Flush()
			select {
			case <-seen:
			case <-time.After(5 * time.Second):
				io.WriteString(w, "timeout\n")
				return
			}
			io.WriteString(w, "second\n")
		})
		base := testserver.Start(t, eventloop.Config{}, New(h, Config{})).URL("")
		c := newClient(version)
		defer c.CloseIdleConnections()
		resp, err := c.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || line != "first\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		close(seen)
		if rest, _ := io.ReadAll(br); string(rest) != "second\n" {
			t.Fatalf("rest %q", rest)
		}
	})
}

// TestMultipleRanges: FileServer's multipart/byteranges answer passes through intact
// (its boundary is random, so it is checked by parsing rather than compared).
func TestMultipleRanges(t *testing.T) {
	base := testserver.Start(t, eventloop.Config{}, New(compareMux(), Config{})).URL("")
	for _, version := range apptest.Versions {
		c := newClient(version)
		req, _ := http.NewRequest("GET", base+"/static/data.txt", nil)
		req.Header.Set("Range", "bytes=0-9,100-119")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.CloseIdleConnections()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != 206 || !strings.HasPrefix(ct, "multipart/byteranges; boundary=") {
			t.Fatalf("HTTP/%s: %d %q", version, resp.StatusCode, ct)
		}
		boundary := strings.TrimPrefix(ct, "multipart/byteranges; boundary=")
		if n := strings.Count(string(body), "--"+boundary); n != 3 || resp.ContentLength != int64(len(body)) {
			t.Fatalf("HTTP/%s: %d boundaries, length %d for %d bytes", version, n, resp.ContentLength, len(body))
		}
	}
}
