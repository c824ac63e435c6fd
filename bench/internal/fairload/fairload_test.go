package fairload

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadHeadFramesResponses(t *testing.T) {
	stream := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 13\r\n\r\nHello, World!" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n3\r\n, W\r\n0\r\nX-Trailer: 1\r\n\r\n" +
		"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(stream))
	var bodies []string
	for _, want := range []head{{200, 13, false}, {200, -1, true}, {413, 0, false}} {
		h, err := readHead(br)
		if err != nil || h != want {
			t.Fatalf("head %+v %v, want %+v", h, err, want)
		}
		var body strings.Builder
		if err := h.copyBody(br, &body); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body.String())
	}
	if got := strings.Join(bodies, "|"); got != "Hello, World!|Hello, W|" {
		t.Fatalf("bodies %q", got)
	}
	if _, err := readHead(br); err != io.EOF {
		t.Fatalf("after the last response: %v", err)
	}
}

func TestReadHeadRejectsWhatItCannotFrame(t *testing.T) {
	for _, resp := range []string{
		"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody",
		"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
		"SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	} {
		if _, err := readHead(bufio.NewReader(strings.NewReader(resp))); !errors.Is(err, ErrResponse) {
			t.Errorf("%q: %v", resp, err)
		}
	}
	if err := readOK(bufio.NewReader(strings.NewReader("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"))); err == nil {
		t.Error("404 accepted")
	}
}

// helloEcho serves the routes of the bench peers: GET / and POST /echo (net/http answers
// a large echo chunked, so both framings are exercised).
func helloEcho(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Hello, World!") })
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBystanderUnderFlood(t *testing.T) {
	base := helloEcho(t)
	ctx := context.Background()
	by, err := StartBystander(ctx, base+"/")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	by.EndAlone()
	flood, err := StartFlood(ctx, FloodConfig{URL: base + "/", EchoURL: base + "/echo", Pipeline: 200, Upload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	by.StartFlood()
	flood.Measure()
	time.Sleep(300 * time.Millisecond)
	res, ferr := flood.Stop()
	alone, under, err := by.Stop()
	if err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	if alone.Count() == 0 || under.Count() == 0 {
		t.Fatalf("round trips: alone %d, under flood %d", alone.Count(), under.Count())
	}
	// Echoed bytes count from Measure on, while an upload begun before it counts whole
	// once its echo ends, so the two are only roughly proportional.
	if res.Pipelined == 0 || res.Uploads == 0 || res.EchoedBytes == 0 || res.EchoedBytes > (res.Uploads+1)<<20 {
		t.Fatalf("flood %+v", res)
	}
}

func TestFloodReportsARefusedUpload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}
	}))
	t.Cleanup(srv.Close)
	flood, err := StartFlood(context.Background(), FloodConfig{URL: srv.URL + "/", EchoURL: srv.URL + "/echo", Pipeline: 10, Upload: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := flood.Stop(); err == nil || !strings.Contains(err.Error(), "answered 413") {
		t.Fatalf("refused upload: %v", err)
	}
}
