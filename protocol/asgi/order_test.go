package asgi

import (
	"strings"
	"testing"
)

func TestHTTPResponseOrderViolations(t *testing.T) {
	start := &HTTPResponseStart{Status: 200}
	body := &HTTPResponseBody{Body: []byte("x"), MoreBody: true}
	last := &HTTPResponseBody{}
	hint := &HTTPResponseEarlyHint{Links: [][]byte{[]byte("</app.css>; rel=preload; as=style")}}
	tests := []struct {
		name string
		msgs []Message
		want string // error text of the last message; "" means all accepted
	}{
		{"body before start", []Message{body}, "Expected ASGI message 'http.response.start', but got 'http.response.body'."},
		{"trailers before start", []Message{&HTTPResponseTrailers{}}, "Expected ASGI message 'http.response.start', but got 'http.response.trailers'."},
		{"start twice", []Message{start, start}, "Expected ASGI message 'http.response.body', but got 'http.response.start'."},
		{"body after complete", []Message{start, last, body}, "Unexpected ASGI message 'http.response.body' sent, after response already completed."},
		{"trailers not announced", []Message{start, last, &HTTPResponseTrailers{}}, "Unexpected ASGI message 'http.response.trailers' sent, after response already completed."},
		{"body where trailers expected", []Message{&HTTPResponseStart{Status: 200, Trailers: true}, last, body}, "Expected ASGI message 'http.response.trailers', but got 'http.response.body'."},
		{"status too low", []Message{&HTTPResponseStart{Status: 99}}, "Invalid HTTP status code '99' in response."},
		{"status 101", []Message{&HTTPResponseStart{Status: 101}}, "Invalid HTTP status code '101' in response."},
		{"CRLF in header value", []Message{&HTTPResponseStart{Status: 200, Headers: H("x-a", "1\r\nSet-Cookie: evil")}}, "Invalid HTTP header value"},
		{"LF in header value", []Message{&HTTPResponseStart{Status: 200, Headers: H("x-a", "1\nx")}}, "Invalid HTTP header value"},
		{"space in header name", []Message{&HTTPResponseStart{Status: 200, Headers: H("x a", "1")}}, "Invalid HTTP header name"},
		{"relative pathsend", []Message{start, &HTTPResponsePathsend{Path: "etc/passwd"}}, "needs an absolute path"},
		{"websocket message on http", []Message{&WebSocketAccept{}}, "Expected ASGI message 'http.response.start', but got 'websocket.accept'."},
		{"nil message", []Message{nil}, "but got '<nil>'"},
		{"full with trailers", []Message{&HTTPResponseStart{Status: 200, Trailers: true}, body, last, &HTTPResponseTrailers{Headers: H("x-checksum", "1")}}, ""},
		{"pathsend", []Message{start, &HTTPResponsePathsend{Path: "/tmp/x"}}, ""},
		{"early hints then response", []Message{hint, hint, start, last}, ""},
		{"early hint after start", []Message{start, hint}, "Expected ASGI message 'http.response.body', but got 'http.response.early_hint'."},
		{"early hint after complete", []Message{start, last, hint}, "Unexpected ASGI message 'http.response.early_hint' sent, after response already completed."},
		{"early hint without links", []Message{&HTTPResponseEarlyHint{}}, "needs at least one link"},
		{"CRLF in early hint", []Message{&HTTPResponseEarlyHint{Links: [][]byte{[]byte("</a>\r\nSet-Cookie: x")}}}, "Invalid link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o HTTPResponseOrder
			var err error
			for _, m := range tt.msgs {
				if err = o.Check(m); err != nil {
					break
				}
			}
			if tt.want == "" {
				if err != nil || o.State != HTTPResponseComplete {
					t.Fatalf("err=%v state=%v, want complete", err, o.State)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !IsContractError(err) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestWebSocketOrderViolations(t *testing.T) {
	tests := []struct {
		name string
		msgs []Message
		want string
	}{
		{"send before accept", []Message{&WebSocketSend{}}, "Expected ASGI message 'websocket.accept' or 'websocket.close' or 'websocket.http.response.start', but got 'websocket.send'."},
		{"accept twice", []Message{&WebSocketAccept{}, &WebSocketAccept{}}, "Expected ASGI message 'websocket.send' or 'websocket.close', but got 'websocket.accept'."},
		{"send after close", []Message{&WebSocketAccept{}, &WebSocketClose{}, &WebSocketSend{}}, "Unexpected ASGI message 'websocket.send', after sending 'websocket.close'"},
		{"bad close code", []Message{&WebSocketAccept{}, &WebSocketClose{Code: 1005}}, "Invalid WebSocket close code 1005."},
		{"denial body before start", []Message{&WebSocketHTTPResponseBody{}}, "but got 'websocket.http.response.body'."},
		{"send during denial", []Message{&WebSocketHTTPResponseStart{Status: 403}, &WebSocketSend{}}, "Expected ASGI message 'websocket.http.response.body', but got 'websocket.send'."},
		{"header injection in accept", []Message{&WebSocketAccept{Headers: H("x", "a\r\nb")}}, "Invalid HTTP header value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o WebSocketOrder
			var err error
			for _, m := range tt.msgs {
				if err = o.Check(m); err != nil {
					break
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	h := H("Content-Type", "text/plain", "x-a", "1", "X-A", "2")
	if string(h.Get("content-type")) != "text/plain" || !h.Has("X-a") || len(h.Values("x-a")) != 2 {
		t.Fatalf("lookup failed: %q", h)
	}
	c := h.Clone()
	c[0].Value[0] = 'T'
	if h[0].Value[0] != 't' {
		t.Fatal("Clone shares bytes")
	}
	if n := testing.AllocsPerRun(100, func() { _ = h.Get("x-a") }); n != 0 {
		t.Fatalf("Get allocates %v times", n)
	}
}
