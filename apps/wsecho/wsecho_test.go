package wsecho

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func wsScope() *asgi.WebSocketScope {
	return &asgi.WebSocketScope{ASGI: asgi.DefaultInfo, HTTPVersion: "1.1", Scheme: "ws", Path: "/ws"}
}

func TestEchoKeepsTextAndBinary(t *testing.T) {
	in := []asgi.Message{
		&asgi.WebSocketConnect{},
		&asgi.WebSocketReceive{Data: []byte("héllo"), Text: true},
		&asgi.WebSocketReceive{Data: []byte{0, 1, 2}},
		&asgi.WebSocketReceive{Data: []byte{}, Text: true},
	}
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	err := App.ServeASGI(context.Background(), wsScope(), asgitest.Script(&asgi.WebSocketDisconnect{Code: 1000}, in...), rec.Send)
	if err != nil || rec.Err != nil {
		t.Fatalf("err %v, contract %v", err, rec.Err)
	}
	want := []asgi.Message{
		&asgi.WebSocketAccept{},
		&asgi.WebSocketSend{Data: []byte("héllo"), Text: true},
		&asgi.WebSocketSend{Data: []byte{0, 1, 2}},
		&asgi.WebSocketSend{Data: []byte{}, Text: true},
	}
	if !reflect.DeepEqual(rec.Messages, want) {
		t.Fatalf("sent %s", rec)
	}
}

func TestEchoStopsWhenClientLeaves(t *testing.T) {
	in := []asgi.Message{&asgi.WebSocketConnect{}, &asgi.WebSocketReceive{Data: []byte("x")}}
	send := func(_ context.Context, m asgi.Message) error {
		if _, ok := m.(*asgi.WebSocketSend); ok {
			return asgi.ErrDisconnected
		}
		return nil
	}
	if err := App.ServeASGI(context.Background(), wsScope(), asgitest.Script(nil, in...), send); err != nil {
		t.Fatalf("err %v", err)
	}
}

func TestEchoHTTPGets426(t *testing.T) {
	resp, err := asgitest.Call(context.Background(), App, "GET", "/ws", nil)
	if err != nil || resp.Status != 426 || string(resp.Headers.Get("upgrade")) != "websocket" {
		t.Fatalf("status %d err %v", resp.Status, err)
	}
}

func TestEchoRejectsMissingConnect(t *testing.T) {
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	err := App.ServeASGI(context.Background(), wsScope(), asgitest.Script(nil, &asgi.WebSocketReceive{}), rec.Send)
	if err == nil || errors.Is(err, asgi.ErrDisconnected) {
		t.Fatalf("err %v", err)
	}
}
