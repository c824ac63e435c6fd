package chat

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// preparedSender records what an event-mode member is sent; it takes prepared
// messages by reference, as asgo's event mode does.
type preparedSender struct {
	mu       sync.Mutex
	sent     []asgi.Message
	prepared []*asgi.PreparedMessage
}

func (s *preparedSender) SendNow(m asgi.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, m)
	return nil
}

func (s *preparedSender) SendPrepared(pm *asgi.PreparedMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prepared = append(s.prepared, pm)
	return nil
}

func joinEvent(t *testing.T, r *Room) (asgi.WebSocketHandler, *preparedSender) {
	t.Helper()
	h := r.WebSocketHandler(&asgi.WebSocketScope{})
	s := &preparedSender{}
	if err := h.HandleWebSocket(&asgi.WebSocketConnect{}, s); err != nil {
		t.Fatal(err)
	}
	return h, s
}

// TestEventBroadcastIsPreparedOnce: every event-mode member is given the same
// PreparedMessage, so the server encodes the broadcast once.
func TestEventBroadcastIsPreparedOnce(t *testing.T) {
	r := New(Config{})
	ha, a := joinEvent(t, r)
	_, b := joinEvent(t, r)
	if err := ha.HandleWebSocket(&asgi.WebSocketReceive{Data: []byte("hi"), Text: true}, a); err != nil {
		t.Fatal(err)
	}
	if len(a.prepared) != 1 || len(b.prepared) != 1 || a.prepared[0] != b.prepared[0] {
		t.Fatalf("prepared messages: %v and %v, want the same one each", a.prepared, b.prepared)
	}
	if pm := a.prepared[0]; !bytes.Equal(pm.Data(), []byte("hi")) || !pm.Text() {
		t.Fatalf("prepared %q text=%v", pm.Data(), pm.Text())
	}
}

// TestEventMessageLimit: the room declares its limit to the server, and a member that
// sends more anyway (a server without the limiter) is closed with 1009, broadcasting
// nothing.
func TestEventMessageLimit(t *testing.T) {
	r := New(Config{})
	h, a := joinEvent(t, r)
	_, b := joinEvent(t, r)
	l, ok := h.(asgi.WebSocketMessageLimiter)
	if !ok || l.MaxMessageSize() != DefaultMaxMessageSize {
		t.Fatalf("limiter %v, %v", ok, l)
	}
	if err := h.HandleWebSocket(&asgi.WebSocketReceive{Data: make([]byte, DefaultMaxMessageSize+1)}, a); err != nil {
		t.Fatal(err)
	}
	last := a.sent[len(a.sent)-1]
	if c, ok := last.(*asgi.WebSocketClose); !ok || c.Code != CloseTooBig {
		t.Fatalf("sender got %#v, want close %d", last, CloseTooBig)
	}
	if len(b.prepared) != 0 {
		t.Fatal("the oversized message was broadcast")
	}
}

// refusingSender refuses prepared messages with ErrBackpressure while refuse is set.
type refusingSender struct {
	preparedSender
	refuse atomic.Bool
}

func (s *refusingSender) SendPrepared(pm *asgi.PreparedMessage) error {
	if s.refuse.Load() {
		return asgi.ErrBackpressure
	}
	return s.preparedSender.SendPrepared(pm)
}

// TestEventBacklog: broadcasts a connection refuses for backpressure wait in the
// member's backlog and go out, in order, once it drains; a backlog over
// QueueMessages closes the member with 1008.
func TestEventBacklog(t *testing.T) {
	r := New(Config{QueueMessages: 3})
	h := r.WebSocketHandler(&asgi.WebSocketScope{})
	s := &refusingSender{}
	if err := h.HandleWebSocket(&asgi.WebSocketConnect{}, s); err != nil {
		t.Fatal(err)
	}
	s.refuse.Store(true)
	r.Broadcast([]byte("1"), true)
	r.Broadcast([]byte("2"), true)
	s.refuse.Store(false)
	testutil.WaitFor(t, 5*time.Second, "the backlog sent", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.prepared) == 2
	})
	r.Broadcast([]byte("3"), true)
	s.mu.Lock()
	got := ""
	for _, pm := range s.prepared {
		got += string(pm.Data())
	}
	s.mu.Unlock()
	if got != "123" {
		t.Fatalf("sent %q, want 123", got)
	}
	s.refuse.Store(true)
	for i := range 4 {
		r.Broadcast([]byte{byte('a' + i)}, true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sent[len(s.sent)-1].(*asgi.WebSocketClose); !ok || c.Code != CloseSlowMember {
		t.Fatalf("last sent %#v, want close 1008", s.sent[len(s.sent)-1])
	}
}
