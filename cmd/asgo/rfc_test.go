package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeDemoRFC9110 runs the demo on a real socket: every GET route answers HEAD
// with the GET's status and Content-Length and no body (the next response on the
// connection follows at once), OPTIONS * gets 200 with Allow, and /echo frames a body
// sent with "Content-Length: 5, 5" as the 5 bytes it is.
func TestServeDemoRFC9110(t *testing.T) {
	p := startAsgo(t)
	c, err := net.DialTimeout("tcp", p.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	do := func(method, target, extra, body string) (*http.Response, string) {
		t.Helper()
		if _, err := io.WriteString(c, method+" "+target+" HTTP/1.1\r\nHost: x\r\n"+extra+"\r\n"+body); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		return resp, string(b)
	}
	for _, path := range []string{"/", "/stream?n=3", "/big?bytes=100000", "/scope", "/chat.html", "/wsgi/", "/nethttp/"} {
		get, _ := do("GET", path, "", "")
		head, body := do("HEAD", path, "", "")
		if get.StatusCode != 200 || head.StatusCode != 200 || body != "" {
			t.Fatalf("%s: GET %d, HEAD %d with %d body bytes", path, get.StatusCode, head.StatusCode, len(body))
		}
		g, h := get.Header.Get("Content-Length"), head.Header.Get("Content-Length")
		if path != "/scope" && g != h || g != "" && h == "" {
			t.Fatalf("%s: Content-Length GET %q, HEAD %q", path, g, h)
		}
	}
	resp, _ := do("OPTIONS", "*", "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Allow") != "GET, HEAD, POST, OPTIONS" {
		t.Fatalf("OPTIONS *: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, body := do("POST", "/echo", "Content-Length: 5, 5\r\n", "hello")
	if resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("POST /echo with Content-Length 5, 5: %d %q", resp.StatusCode, body)
	}
	if resp, body := do("GET", "/", "Connection: close\r\n", ""); resp.StatusCode != 200 || !strings.HasPrefix(body, "Hello") {
		t.Fatalf("last request: %d %q", resp.StatusCode, body)
	}
}
