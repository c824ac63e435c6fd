package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// These tests call the app directly: asgitest supplies the scope, a scripted receive and
// a recording send that checks the ASGI message order, as the server would.

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// asgitest.Call is the shortest path: one request, the whole response.
func TestPutThenGet(t *testing.T) {
	ctx, app := testContext(t), newStore()
	resp, err := asgitest.Call(ctx, app, "PUT", "/kv/greeting", []byte("hello"))
	if err != nil || resp.Status != 204 || !resp.Complete {
		t.Fatalf("PUT: %+v, %v", resp, err)
	}
	resp, err = asgitest.Call(ctx, app, "GET", "/kv/greeting", nil)
	if err != nil || resp.Status != 200 || string(resp.Body) != "hello" {
		t.Fatalf("GET: status %d body %q, %v", resp.Status, resp.Body, err)
	}
	if ct := string(resp.Headers.Get("content-type")); ct != "text/plain; charset=utf-8" {
		t.Errorf("content-type %q", ct)
	}
}

func TestStatuses(t *testing.T) {
	ctx, app := testContext(t), newStore()
	for _, c := range []struct {
		method, path string
		body         []byte
		want         int
	}{
		{"GET", "/kv/missing", nil, 404},
		{"GET", "/elsewhere", nil, 404},
		{"DELETE", "/kv/x", nil, 405},
		{"PUT", "/kv/big", bytes.Repeat([]byte("x"), maxValue+1), 413},
	} {
		resp, err := asgitest.Call(ctx, app, c.method, c.path, c.body)
		if err != nil || resp.Status != c.want {
			t.Errorf("%s %s: status %d, %v; want %d", c.method, c.path, resp.Status, err, c.want)
		}
	}
}

// A Script delivers the body in several http.request messages, as a server does for a
// body arriving in pieces; the Recorder checks what the app sends.
func TestBodyInPieces(t *testing.T) {
	ctx, app := testContext(t), newStore()
	body := []byte("a value sent in pieces")
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	receive := asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body(body, 4)...)
	if err := app.ServeASGI(ctx, asgitest.NewHTTPScope("PUT", "/kv/k"), receive, rec.Send); err != nil || rec.Err != nil {
		t.Fatalf("PUT: %v, order: %v", err, rec.Err)
	}
	resp, _ := asgitest.Call(ctx, app, "GET", "/kv/k", nil)
	if !bytes.Equal(resp.Body, body) {
		t.Fatalf("GET after a body in pieces: %q", resp.Body)
	}
}

// A client that leaves before its body is complete gets no response, and nothing is
// stored.
func TestClientLeavesDuringTheBody(t *testing.T) {
	ctx, app := testContext(t), newStore()
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	receive := asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{Body: []byte("half"), MoreBody: true})
	if err := app.ServeASGI(ctx, asgitest.NewHTTPScope("PUT", "/kv/k"), receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	if len(rec.Messages) != 0 {
		t.Fatalf("sent %s to a client that left", rec)
	}
	if resp, _ := asgitest.Call(ctx, app, "GET", "/kv/k", nil); resp.Status != 404 {
		t.Fatalf("a half body was stored: %d %q", resp.Status, resp.Body)
	}
}

// A WebSocket scope is scripted the same way: connect, messages, then the disconnect
// that receive returns forever after the script.
func TestWebSocketShout(t *testing.T) {
	ctx, app := testContext(t), newStore()
	scope := &asgi.WebSocketScope{ASGI: asgi.DefaultInfo, HTTPVersion: "1.1", Scheme: "ws", Path: "/ws", RawPath: []byte("/ws")}
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	receive := asgitest.Script(&asgi.WebSocketDisconnect{Code: 1000},
		&asgi.WebSocketConnect{},
		&asgi.WebSocketReceive{Data: []byte("hello"), Text: true},
		&asgi.WebSocketReceive{Data: []byte("again"), Text: true},
	)
	if err := app.ServeASGI(ctx, scope, receive, rec.Send); err != nil || rec.Err != nil {
		t.Fatalf("%v, order: %v", err, rec.Err)
	}
	var got []string
	for _, m := range rec.Messages {
		switch m := m.(type) {
		case *asgi.WebSocketAccept:
			got = append(got, "accept")
		case *asgi.WebSocketSend:
			got = append(got, string(m.Data))
		default:
			got = append(got, m.Type())
		}
	}
	if strings.Join(got, " ") != "accept HELLO AGAIN" {
		t.Fatalf("sent %q", got)
	}
}

// The Recorder enforces the contract: an app that sends the body before the start, or
// anything after the end, fails the way it would on the server.
func TestRecorderCatchesContractViolations(t *testing.T) {
	broken := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte("no start")})
	})
	_, err := asgitest.Call(testContext(t), broken, "GET", "/", nil)
	if !asgi.IsContractError(err) {
		t.Fatalf("err = %v, want a contract error", err)
	}
	if want := "Expected ASGI message 'http.response.start', but got 'http.response.body'."; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}
