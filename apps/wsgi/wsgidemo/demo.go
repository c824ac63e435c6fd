package wsgidemo

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/asgo-dev/asgo/apps/wsgi"
)

// echoBlock is how much of the request body the echo reads and writes at a time.
const echoBlock = 32 << 10

// Handler serves, below its mount point:
//
//	GET  /          a hello in text/plain
//	GET  /environ   the environ as JSON (string, number and boolean values; other
//	                values are shown as their Go type)
//	POST /echo      the request body streamed back as it is read from wsgi.input
//
// and 404 or 405 otherwise. It is safe for concurrent use.
func Handler() wsgi.Handler { return wsgi.HandlerFunc(serve) }

func serve(environ wsgi.Environ, start wsgi.StartResponse) (wsgi.Iterable, error) {
	path, method := environ.Get("PATH_INFO"), environ.Get("REQUEST_METHOD")
	switch {
	case path == "" || path == "/":
		return only(method, "GET", environ, start, hello)
	case path == "/environ":
		return only(method, "GET", environ, start, dump)
	case path == "/echo":
		return only(method, "POST", environ, start, echo)
	}
	return text(start, "404 Not Found", "Not Found\n")
}

type handlerFunc func(wsgi.Environ, wsgi.StartResponse) (wsgi.Iterable, error)

// only runs h for the allowed method (and HEAD for GET), else answers 405.
func only(method, allowed string, environ wsgi.Environ, start wsgi.StartResponse, h handlerFunc) (wsgi.Iterable, error) {
	if method == allowed || method == "HEAD" && allowed == "GET" {
		return h(environ, start)
	}
	allow := allowed
	if allowed == "GET" {
		allow = "GET, HEAD"
	}
	if _, err := start("405 Method Not Allowed", [][2]string{{"Allow", allow}, {"Content-Type", "text/plain; charset=utf-8"}}, nil); err != nil {
		return nil, err
	}
	return wsgi.Bytes([]byte("Method Not Allowed\n")), nil
}

func text(start wsgi.StartResponse, status, body string) (wsgi.Iterable, error) {
	if _, err := start(status, textPlain, nil); err != nil {
		return nil, err
	}
	return wsgi.Bytes([]byte(body)), nil
}

func hello(environ wsgi.Environ, start wsgi.StartResponse) (wsgi.Iterable, error) {
	proto := environ.Get("SERVER_PROTOCOL")
	body, ok := helloBodies[proto]
	if !ok {
		body = helloBody(proto)
	}
	if _, err := start("200 OK", textPlain, nil); err != nil {
		return nil, err
	}
	return wsgi.Bytes(body), nil
}

func helloBody(proto string) []byte {
	return fmt.Appendf(nil, "Hello from a WSGI-style handler (%s)\n", proto)
}

// helloBodies holds hello's body for the protocols asgo speaks, built once and shared
// read-only (the adapter only reads a body it is given).
var helloBodies = map[string][]byte{
	"HTTP/1.0": helloBody("HTTP/1.0"), "HTTP/1.1": helloBody("HTTP/1.1"), "HTTP/2": helloBody("HTTP/2"),
}

// textPlain is the Content-Type header list of the text answers, shared read-only.
var textPlain = [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}

// dump renders the environ as JSON with sorted keys.
func dump(environ wsgi.Environ, start wsgi.StartResponse) (wsgi.Iterable, error) {
	out := make(map[string]any, environ.Len())
	for k, v := range environ.All() {
		out[k] = jsonValue(v)
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	if _, err := start("200 OK", [][2]string{{"Content-Type", "application/json"}}, nil); err != nil {
		return nil, err
	}
	return wsgi.Bytes(body, []byte("\n")), nil
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case string, bool, int, [2]int:
		return v
	}
	return fmt.Sprintf("<%T>", v)
}

// echo streams the body back: each block read from wsgi.input is written before the
// next is read, so an upload of any size passes through in bounded memory.
func echo(environ wsgi.Environ, start wsgi.StartResponse) (wsgi.Iterable, error) {
	h := [][2]string{{"Content-Type", "application/octet-stream"}}
	if cl := environ.Get("CONTENT_LENGTH"); cl != "" {
		h = append(h, [2]string{"Content-Length", cl})
	}
	if ct := environ.Get("CONTENT_TYPE"); ct != "" {
		h[0][1] = ct
	}
	write, err := start("200 OK", h, nil)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, echoBlock)
	for {
		n, err := environ.Input().Read(buf)
		if n > 0 {
			if werr := write(buf[:n]); werr != nil {
				return nil, werr
			}
		}
		if err == io.EOF {
			return wsgi.Empty(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
