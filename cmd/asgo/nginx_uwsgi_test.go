package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/uwsgi"
)

// These tests put a real nginx with uwsgi_pass in front of a small test server built
// on protocol/uwsgi's parser (the event loop's uwsgi session is not written yet): the
// packets nginx sends must parse into the scope the HTTP/1.1 path would build, and a
// plain HTTP/1.x answer must reach the client.

// uwsgiSeen is what the test server reports for one request.
type uwsgiSeen struct {
	Method, Path, RawPath, Query, Root, Scheme, Version string
	Client                                              string
	Headers                                             map[string]string
	BodyLen                                             int
	BodySHA                                             string
	Vars                                                map[string]string
	Packets                                             int
}

// serveUWSGI accepts uwsgi connections on a free port until the test ends: one
// request per connection, answered with its uwsgiSeen as JSON. Paths ending in /close
// are answered without Content-Length (the body ends with the connection).
func serveUWSGI(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handleUWSGI(t, c)
		}
	}()
	return ln.Addr().String()
}

func handleUWSGI(t *testing.T, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(ngxTimeout))
	var p uwsgi.Parser
	var seen uwsgiSeen
	var scope *asgi.HTTPScope
	sum := sha256.New()
	var buf []byte
	chunk := make([]byte, 32<<10)
	for {
		n, ev, err := p.Parse(buf)
		if err != nil {
			status := err.(*uwsgi.Error).Status
			fmt.Fprintf(c, "HTTP/1.0 %d Bad\r\nContent-Length: 0\r\n\r\n", status)
			t.Errorf("uwsgi parse error: %v", err)
			return
		}
		buf = buf[n:]
		switch ev {
		case uwsgi.EventHead:
			seen.Packets++
			scope = p.Request().HTTPScope(uwsgi.ScopeDefaults{})
		case uwsgi.EventBody:
			seen.BodyLen += len(p.Body())
			sum.Write(p.Body())
		case uwsgi.EventEnd:
			seen.BodySHA = hex.EncodeToString(sum.Sum(nil))
			answerUWSGI(c, scope, seen)
			return
		}
		if ev != uwsgi.EventNone || n > 0 {
			continue
		}
		k, err := c.Read(chunk)
		if err != nil {
			if err != io.EOF || !p.Idle() {
				t.Errorf("uwsgi connection: %v (parser idle %v)", err, p.Idle())
			}
			return
		}
		buf = append(buf, chunk[:k]...)
	}
}

func answerUWSGI(c net.Conn, s *asgi.HTTPScope, seen uwsgiSeen) {
	seen.Method, seen.Path, seen.RawPath, seen.Query = s.Method, s.Path, string(s.RawPath), string(s.QueryString)
	seen.Root, seen.Scheme, seen.Version = s.RootPath, s.Scheme, s.HTTPVersion
	if s.Client != nil {
		seen.Client = fmt.Sprintf("%s:%d", s.Client.Host, s.Client.Port)
	}
	seen.Headers = map[string]string{}
	for _, h := range s.Headers { // repeated fields joined with " | "
		if old, ok := seen.Headers[string(h.Name)]; ok {
			seen.Headers[string(h.Name)] = old + " | " + string(h.Value)
			continue
		}
		seen.Headers[string(h.Name)] = string(h.Value)
	}
	seen.Vars = s.Extensions[asgi.ExtUWSGIVars].(map[string]string)
	body, _ := json.Marshal(seen)
	if strings.HasSuffix(s.Path, "/close") {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n%s", body)
		return
	}
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

func uwsgiRequest(t *testing.T, n *ngxProxy, method, path string, body io.Reader, headers ...string) uwsgiSeen {
	t.Helper()
	req := newReq(t, method, n.url(path), body)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, b := do(t, clientFrom(t, ngxClientIP), req)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s = %d %q", method, path, resp.StatusCode, b)
	}
	var seen uwsgiSeen
	if err := json.Unmarshal(b, &seen); err != nil {
		t.Fatalf("%s %s: %v\n%s", method, path, err, b)
	}
	return seen
}

func TestNginxUWSGIPacketsParse(t *testing.T) {
	n := startNginxConf(t, "uwsgi.conf.tmpl", serveUWSGI(t))
	host := n.addr[:strings.LastIndexByte(n.addr, ':')]

	s := uwsgiRequest(t, n, "GET", "/app/hello%20there?x=1&y=%20", nil, "X-Custom", "v", "Cookie", "a=1", "Cookie", "b=2")
	want := uwsgiSeen{Method: "GET", Path: "/app/hello there", RawPath: "/app/hello%20there", Query: "x=1&y=%20",
		Root: "/app", Scheme: "http", Version: "1.1", Packets: 1}
	got := s
	got.Client, got.Headers, got.Vars, got.BodySHA = "", nil, nil, ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GET scope\n got %+v\nwant %+v", got, want)
	}
	if !strings.HasPrefix(s.Client, ngxClientIP+":") || s.Client == ngxClientIP+":0" {
		t.Errorf("client %q, want %s with nginx's REMOTE_PORT", s.Client, ngxClientIP)
	}
	// nginx 1.23+ joins repeated headers into one var; 1.22 sends one var each, which
	// stay separate fields in the scope and are joined in the vars map.
	if c := s.Headers["cookie"]; c != "a=1; b=2" && c != "a=1 | b=2" {
		t.Errorf("cookie fields %q", c)
	}
	if c := s.Vars["HTTP_COOKIE"]; c != "a=1; b=2" {
		t.Errorf("HTTP_COOKIE var %q", c)
	}
	for k, v := range map[string]string{"host": host, "x-custom": "v", "user-agent": "Go-http-client/1.1"} {
		if s.Headers[k] != v {
			t.Errorf("header %s = %q, want %q (headers %v)", k, s.Headers[k], v, s.Headers)
		}
	}
	if _, ok := s.Headers["content-length"]; ok {
		t.Errorf("content-length header on a GET: %v", s.Headers)
	}
	if s.Vars["DOCUMENT_ROOT"] == "" || s.Vars["REQUEST_URI"] != "/app/hello%20there?x=1&y=%20" || s.Vars["SCRIPT_NAME"] != "/app" {
		t.Errorf("vars %v", s.Vars)
	}

	payload := patternBody(t, 300<<10)
	digest := sha256.Sum256(payload)
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(payload)
		if chunked {
			body = onlyReader{body}
		}
		s = uwsgiRequest(t, n, "POST", "/app/upload", body, "Content-Type", "application/octet-stream")
		if s.BodyLen != len(payload) || s.BodySHA != hex.EncodeToString(digest[:]) {
			t.Errorf("chunked=%v: body of %d bytes, want %d intact", chunked, s.BodyLen, len(payload))
		}
		if s.Headers["content-length"] != fmt.Sprint(len(payload)) || s.Headers["content-type"] != "application/octet-stream" {
			t.Errorf("chunked=%v: headers %v", chunked, s.Headers)
		}
		if te, ok := s.Headers["transfer-encoding"]; ok {
			t.Errorf("chunked=%v: transfer-encoding %q reached the scope", chunked, te)
		}
	}

	// A close-delimited answer (no Content-Length) reaches the client whole.
	if s = uwsgiRequest(t, n, "GET", "/app/close", nil); s.Path != "/app/close" {
		t.Errorf("close-delimited answer: %+v", s)
	}
	n.assertNoUpstreamErrors(t)
}
