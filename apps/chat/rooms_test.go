package chat

import (
	"bytes"
	"context"
	"testing"

	"github.com/asgo-dev/asgo/channels"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func joinEventRoom(t *testing.T, r *Room, query string) (asgi.WebSocketHandler, *preparedSender) {
	t.Helper()
	h := r.WebSocketHandler(&asgi.WebSocketScope{QueryString: []byte(query)})
	s := &preparedSender{}
	if err := h.HandleWebSocket(&asgi.WebSocketConnect{}, s); err != nil {
		t.Fatal(err)
	}
	return h, s
}

func TestRoomName(t *testing.T) {
	for _, tt := range []struct {
		query, want string
		ok          bool
	}{
		{"", DefaultRoom, true},
		{"room=", DefaultRoom, true},
		{"room=lobby", "lobby", true},
		{"x=1&room=a.b-c_d", "a.b-c_d", true},
		{"room=has+space", "", false},
		{"room=%00", "", false},
		{"room=" + string(bytes.Repeat([]byte("a"), MaxRoomLen+1)), "", false},
		{"room=%zz", "", false},
	} {
		got, err := RoomName([]byte(tt.query))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("RoomName(%q) = %q, %v", tt.query, got, err)
		}
	}
}

// TestRoomsAreSeparate: a message reaches its own room only.
func TestRoomsAreSeparate(t *testing.T) {
	r := New(Config{})
	ha, a := joinEventRoom(t, r, "room=one")
	_, b := joinEventRoom(t, r, "room=one")
	_, c := joinEventRoom(t, r, "room=two")
	_, d := joinEventRoom(t, r, "")
	if err := ha.HandleWebSocket(&asgi.WebSocketReceive{Data: []byte("hi"), Text: true}, a); err != nil {
		t.Fatal(err)
	}
	if len(a.prepared) != 1 || len(b.prepared) != 1 || len(c.prepared) != 0 || len(d.prepared) != 0 {
		t.Fatalf("deliveries: one %d %d, two %d, default %d", len(a.prepared), len(b.prepared), len(c.prepared), len(d.prepared))
	}
	if err := r.Broadcast([]byte("to main"), true); err != nil {
		t.Fatal(err)
	}
	if len(d.prepared) != 1 || len(c.prepared) != 0 {
		t.Fatal("Broadcast did not reach the default room only")
	}
}

// TestBadRoomRefused: an invalid room name is refused before the handshake (403).
func TestBadRoomRefused(t *testing.T) {
	r := New(Config{})
	_, s := joinEventRoom(t, r, "room=no/slash")
	if len(s.sent) != 1 {
		t.Fatalf("sent %v", s.sent)
	}
	if c, ok := s.sent[0].(*asgi.WebSocketClose); !ok || c.Code != CloseBadRoom {
		t.Fatalf("sent %#v, want a close", s.sent[0])
	}
	if r.Members() != 0 {
		t.Fatalf("%d members", r.Members())
	}
}

// TestSharedLayer: two Room values on one layer (two instances) share their rooms,
// and each instance's members get one prepared message between them.
func TestSharedLayer(t *testing.T) {
	layer := channels.NewMemory(channels.MemoryConfig{Name: "node-1"})
	r1, r2 := New(Config{Layer: layer}), New(Config{Layer: layer})
	h1, s1 := joinEventRoom(t, r1, "room=x")
	h2, s2 := joinEventRoom(t, r2, "room=x")
	if err := h1.HandleWebSocket(&asgi.WebSocketReceive{Data: []byte("a")}, s1); err != nil {
		t.Fatal(err)
	}
	if len(s1.prepared) != 1 || len(s2.prepared) != 1 || s1.prepared[0] != s2.prepared[0] {
		t.Fatalf("deliveries %v %v", s1.prepared, s2.prepared)
	}
	if err := h2.HandleWebSocket(&asgi.WebSocketDisconnect{}, s2); err != nil {
		t.Fatal(err)
	}
	if err := h1.HandleWebSocket(&asgi.WebSocketReceive{Data: []byte("b")}, s1); err != nil {
		t.Fatal(err)
	}
	if len(s2.prepared) != 1 {
		t.Fatal("a member that left still gets messages")
	}
	if m, _ := layer.GroupMembers(context.Background(), "chat.x"); len(m) != 1 {
		t.Fatalf("group members %v", m)
	}
	resp, err := asgitest.Call(context.Background(), r1, "GET", "/chat.html", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(resp.Body, []byte(">node-1<")) {
		t.Fatal("the page does not name its instance")
	}
}
