package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNginxProxyPassOverTCPAndUnixSocket runs the HTTP/1.1 integration scenarios through
// nginx's proxy_pass with upstream keep-alive, to asgo over TCP and over a Unix
// socket alike: chunked and Content-Length uploads (buffered by nginx and streamed
// through), 100-continue, a large body, a streamed response, a large response,
// WebSocket echo and chat through nginx's Upgrade proxying, and the scope's client
// and scheme from X-Forwarded-For and X-Forwarded-Proto.
//
// A Unix socket peer has no address, so asgo believes nginx's proxy headers there
// only with --forwarded-allow-ips '*' (as uvicorn): only processes allowed to open
// the socket file (--uds-mode) can connect at all.
func TestNginxProxyPassOverTCPAndUnixSocket(t *testing.T) {
	for _, upstream := range []string{"tcp", "unix"} {
		t.Run(upstream, func(t *testing.T) {
			var p *proc
			var target string
			if upstream == "tcp" {
				p = startAsgo(t)
				target = p.addr
			} else {
				path := filepath.Join(t.TempDir(), "asgo.sock")
				p = startAsgoCmd(t, "serve", "--uds", path, "--forwarded-allow-ips", "*")
				target = "unix:" + path
			}
			n := startNginx(t, target)
			c := ngxClient(t)

			t.Run("uploads", func(t *testing.T) {
				payload := patternBody(t, 3<<20)
				for _, path := range []string{"/echo", "/unbuffered/echo"} {
					for _, chunked := range []bool{false, true} {
						var body io.Reader = bytes.NewReader(payload)
						if chunked {
							body = onlyReader{body}
						}
						resp, got := do(t, c, newReq(t, "POST", n.url(path), body))
						if resp.StatusCode != 200 || !bytes.Equal(got, payload) {
							t.Fatalf("POST %s chunked=%v = %d with %d bytes, want %d", path, chunked, resp.StatusCode, len(got), len(payload))
						}
					}
				}
			})
			t.Run("large body", func(t *testing.T) {
				payload := patternBody(t, 48<<20)
				resp, got := do(t, c, newReq(t, "POST", n.url("/unbuffered/echo"), onlyReader{bytes.NewReader(payload)}))
				if resp.StatusCode != 200 || !bytes.Equal(got, payload) {
					t.Fatalf("48 MiB chunked echo = %d with %d bytes", resp.StatusCode, len(got))
				}
			})
			t.Run("100-continue", func(t *testing.T) {
				for _, path := range []string{"/echo", "/unbuffered/echo"} {
					expectContinueThrough(t, n.addr, path)
				}
			})
			t.Run("streaming", func(t *testing.T) {
				const lines, delay = 4, 100 * time.Millisecond
				resp, err := c.Do(newReq(t, "GET", n.url(fmt.Sprintf("/unbuffered/stream?n=%d&delay=%d", lines, delay/time.Millisecond)), nil))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				br := bufio.NewReader(resp.Body)
				var first time.Time
				for i := range lines {
					line, err := br.ReadString('\n')
					if want := fmt.Sprintf("chunk %d\n", i); err != nil || line != want {
						t.Fatalf("line %d = %q %v", i, line, err)
					}
					if i == 0 {
						first = time.Now()
					}
				}
				if spread := time.Since(first); spread < (lines-1)*delay*3/4 {
					t.Fatalf("lines arrived within %v: the stream was held back", spread)
				}
			})
			t.Run("large response", func(t *testing.T) {
				const size = 20_000_000
				resp, err := c.Do(newReq(t, "GET", n.url("/unbuffered/big?bytes="+strconv.Itoa(size)), nil))
				if err != nil {
					t.Fatal(err)
				}
				got, err := countX(resp.Body)
				resp.Body.Close()
				if err != nil || got != size {
					t.Fatalf("GET /big: %d bytes (%v), want %d", got, err, size)
				}
			})
			t.Run("websocket", func(t *testing.T) {
				ws := wsDial(t, n.addr, "/ws")
				for _, m := range [][]byte{[]byte("hello"), patternBody(t, 200_000)} {
					if err := ws.writeFrame(wsOpBinary, m); err != nil {
						t.Fatal(err)
					}
					ws.expectMessage(t, wsOpBinary, m)
				}
				ws.closeHandshake(t)
				a, b := wsDial(t, n.addr, "/chat"), wsDial(t, n.addr, "/chat")
				if err := a.writeFrame(wsOpText, []byte("hi from a")); err != nil {
					t.Fatal(err)
				}
				a.expectMessage(t, wsOpText, []byte("hi from a"))
				b.expectMessage(t, wsOpText, []byte("hi from a"))
				a.closeHandshake(t)
				b.closeHandshake(t)
			})
			t.Run("client and scheme", func(t *testing.T) {
				cf := clientFrom(t, ngxClientIP)
				if s := getScope(t, cf, n.url("/scope")); s.clientHost() != ngxClientIP || s.Scheme != "http" {
					t.Errorf("client %v scheme %s, want %s http", s.Client, s.Scheme, ngxClientIP)
				}
				if s := getScope(t, cf, n.url("/as-https/scope")); s.clientHost() != ngxClientIP || s.Scheme != "https" {
					t.Errorf("as https: client %v scheme %s, want %s https", s.Client, s.Scheme, ngxClientIP)
				}
			})
			n.assertNoUpstreamErrors(t)
			if strings.Contains(p.logs(), "level=ERROR") {
				t.Errorf("asgo logged errors:\n%s", p.logs())
			}
		})
	}
}

// expectContinueThrough sends a request with Expect: 100-continue to nginx at addr
// and its body only after the interim 100 response, then expects the echo.
func expectContinueThrough(t *testing.T, addr, path string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(ngxTimeout))
	body := "continue me"
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", path, addr, len(body))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("%s: first line %q %v, want a 100 Continue", path, line, err)
	}
	for line != "\r\n" { // the interim response's end
		if line, err = br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(got) != body {
		t.Fatalf("%s after 100-continue: %d %q", path, resp.StatusCode, got)
	}
}
