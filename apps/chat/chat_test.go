package chat

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// peer is a scripted WebSocket connection to the room: in feeds receive, sent records
// what the room sends, and block makes send stall (a slow client).
type peer struct {
	in    chan asgi.Message
	mu    sync.Mutex
	sent  []asgi.Message
	block chan struct{}
	got   chan struct{}
}

func newPeer() *peer {
	p := &peer{in: make(chan asgi.Message, 16), got: make(chan struct{}, 1024)}
	p.in <- &asgi.WebSocketConnect{}
	return p
}

func (p *peer) receive(ctx context.Context) (asgi.Message, error) {
	select {
	case m := <-p.in:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *peer) send(ctx context.Context, m asgi.Message) error {
	if p.block != nil {
		if _, ok := m.(*asgi.WebSocketSend); ok {
			select {
			case <-p.block:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if s, ok := m.(*asgi.WebSocketSend); ok {
		m = &asgi.WebSocketSend{Data: bytes.Clone(s.Data), Text: s.Text}
	}
	p.mu.Lock()
	p.sent = append(p.sent, m)
	p.mu.Unlock()
	p.got <- struct{}{}
	return nil
}

func (p *peer) messages() []asgi.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]asgi.Message(nil), p.sent...)
}

func (p *peer) waitSent(t *testing.T, n int) []asgi.Message {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(p.messages()) < n {
		select {
		case <-p.got:
		case <-deadline:
			t.Fatalf("peer got %d messages, want %d", len(p.messages()), n)
		}
	}
	return p.messages()
}

func run(r *Room, p *peer) chan error {
	done := make(chan error, 1)
	scope := &asgi.WebSocketScope{ASGI: asgi.DefaultInfo, Path: "/chat"}
	go func() { done <- r.ServeASGI(context.Background(), scope, p.receive, p.send) }()
	return done
}

func waitMembers(t *testing.T, r *Room, n int) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("%d members in the room", n), func() bool { return r.Members() == n })
}

func TestBroadcastReachesEveryMember(t *testing.T) {
	r := New(Config{})
	a, b := newPeer(), newPeer()
	da, db := run(r, a), run(r, b)
	waitMembers(t, r, 2)
	a.in <- &asgi.WebSocketReceive{Data: []byte("hi"), Text: true}
	b.in <- &asgi.WebSocketReceive{Data: []byte{1, 2}}
	for _, p := range []*peer{a, b} {
		got := p.waitSent(t, 3)
		if _, ok := got[0].(*asgi.WebSocketAccept); !ok {
			t.Fatalf("first message %s", got[0].Type())
		}
	}
	a.in <- &asgi.WebSocketDisconnect{Code: 1000}
	b.in <- &asgi.WebSocketDisconnect{Code: 1001}
	if err := <-da; err != nil {
		t.Fatal(err)
	}
	if err := <-db; err != nil {
		t.Fatal(err)
	}
	if r.Members() != 0 {
		t.Fatalf("%d members left", r.Members())
	}
}

func TestSlowMemberIsDroppedWithoutStallingOthers(t *testing.T) {
	r := New(Config{QueueMessages: 4})
	fast, slow := newPeer(), newPeer()
	slow.block = make(chan struct{})
	df, ds := run(r, fast), run(r, slow)
	waitMembers(t, r, 2)
	const n = 50
	for i := range n {
		r.Broadcast([]byte{byte(i)}, false)
		fast.waitSent(t, 2+i) // the fast member keeps up while the slow one is stuck
	}
	// The slow member overflowed: it gets a 1008 close once its send returns.
	close(slow.block)
	deadline := time.After(5 * time.Second)
	for {
		msgs := slow.messages()
		if c, ok := msgs[len(msgs)-1].(*asgi.WebSocketClose); ok {
			if c.Code != CloseSlowMember || len(msgs) > 2+4+1 {
				t.Fatalf("slow member: close %d after %d messages", c.Code, len(msgs))
			}
			break
		}
		select {
		case <-slow.got:
		case <-deadline:
			t.Fatalf("slow member never closed: %d messages", len(msgs))
		}
	}
	slow.in <- &asgi.WebSocketDisconnect{Code: 1008}
	fast.in <- &asgi.WebSocketDisconnect{Code: 1000}
	<-ds
	<-df
}

func TestQueueBytesBound(t *testing.T) {
	r := New(Config{QueueBytes: 10})
	p := newPeer()
	p.block = make(chan struct{})
	done := run(r, p)
	waitMembers(t, r, 1)
	r.Broadcast(make([]byte, 8), false) // may be taken by the writer already
	r.Broadcast(make([]byte, 8), false)
	r.Broadcast(make([]byte, 8), false)
	close(p.block)
	msgs := p.waitSent(t, 2)
	for len(msgs) < 5 {
		if _, ok := msgs[len(msgs)-1].(*asgi.WebSocketClose); ok {
			break
		}
		msgs = p.waitSent(t, len(msgs)+1)
	}
	if c, ok := msgs[len(msgs)-1].(*asgi.WebSocketClose); !ok || c.Code != CloseSlowMember {
		t.Fatalf("no 1008 after exceeding the byte bound: %d messages", len(msgs))
	}
	p.in <- &asgi.WebSocketDisconnect{}
	<-done
}

func TestRoomFullRefuses(t *testing.T) {
	r := New(Config{MaxMembers: 1})
	a := newPeer()
	da := run(r, a)
	waitMembers(t, r, 1)
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	err := r.ServeASGI(context.Background(), &asgi.WebSocketScope{}, asgitest.Script(nil, &asgi.WebSocketConnect{}), rec.Send)
	if err != nil || len(rec.Messages) != 1 || rec.Messages[0].Type() != asgi.TypeWebSocketClose {
		t.Fatalf("err %v sent %s", err, rec)
	}
	a.in <- &asgi.WebSocketDisconnect{}
	<-da
}

func TestPage(t *testing.T) {
	resp, err := asgitest.Call(context.Background(), New(Config{}), "GET", "/chat.html", nil)
	if err != nil || resp.Status != 200 || !bytes.Contains(resp.Body, []byte("new WebSocket(")) ||
		string(resp.Headers.Get("content-type")) != "text/html; charset=utf-8" {
		t.Fatalf("status %d err %v", resp.Status, err)
	}
	resp, _ = asgitest.Call(context.Background(), New(Config{}), "POST", "/chat.html", nil)
	if resp.Status != 405 {
		t.Fatalf("POST status %d", resp.Status)
	}
}
