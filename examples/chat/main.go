// Command chat is a WebSocket broadcast room in event mode: every client that connects
// to / joins the room, and every message a member sends goes to every member, the
// sender included.
//
//	go run ./examples/chat --bind 127.0.0.1:8000
//	websocat ws://127.0.0.1:8000/     # in two terminals
package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// closeTooSlow is the close code sent to a member that does not read fast enough.
const closeTooSlow = 1008

// room is the app. It implements asgi.WebSocketEventer, so asgo serves each WebSocket
// as calls of HandleWebSocket on the event loop: an idle member costs no goroutine, and
// a broadcast is encoded into every member's connection right away with SendNow.
type room struct {
	mu      sync.Mutex
	members map[*member]struct{}
}

func newRoom() *room { return &room{members: make(map[*member]struct{})} }

// member is one connection in the room.
type member struct {
	room *room
	send asgi.WebSocketSender // set at websocket.connect; usable from any goroutine
}

// WebSocketHandler is called on the event loop for every WebSocket scope; it must not
// block. Returning nil would make the server call ServeASGI instead.
func (r *room) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler {
	return &member{room: r}
}

// HandleWebSocket gets the messages receive would return, in order: websocket.connect,
// websocket.receive for each message, websocket.disconnect once at the end. It runs on
// the event loop: it must not block, and msg's Data is only valid during the call.
func (m *member) HandleWebSocket(msg asgi.Message, send asgi.WebSocketSender) error {
	switch msg := msg.(type) {
	case *asgi.WebSocketConnect:
		m.send = send
		m.room.join(m) // before the accept, so no broadcast after the handshake is missed
		return ignoreGone(send.SendNow(&asgi.WebSocketAccept{}))
	case *asgi.WebSocketReceive:
		// Clone: Data is reused once this call returns, and the broadcast shares it.
		m.room.broadcast(bytes.Clone(msg.Data), msg.Text)
	case *asgi.WebSocketDisconnect:
		m.room.leave(m)
	}
	return nil
}

func (r *room) join(m *member) {
	r.mu.Lock()
	r.members[m] = struct{}{}
	n := len(r.members)
	r.mu.Unlock()
	slog.Info("member joined", "members", n)
}

func (r *room) leave(m *member) {
	r.mu.Lock()
	_, in := r.members[m]
	delete(r.members, m)
	n := len(r.members)
	r.mu.Unlock()
	if in {
		slog.Info("member left", "members", n)
	}
}

// broadcast hands data to every member without blocking. SendNow does not retain the
// message, so one buffer serves every member. A member whose connection has more unsent
// output than the server's high-water mark gets asgi.ErrBackpressure: it is closed
// rather than allowed to slow the room down or grow memory.
func (r *room) broadcast(data []byte, text bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := range r.members {
		err := m.send.SendNow(&asgi.WebSocketSend{Data: data, Text: text})
		if errors.Is(err, asgi.ErrBackpressure) {
			_ = m.send.SendNow(&asgi.WebSocketClose{Code: closeTooSlow, Reason: "too slow"})
		}
	}
}

// ServeASGI serves what event mode does not: plain HTTP requests get a short note, and
// a WebSocket scope reaches it only on a server without event mode (an
// asgi.WebSocketEventer must serve the same scopes through ServeASGI too). Then the
// member's messages are read on this goroutine and broadcasts reach it through a
// bounded queue that a writer goroutine drains.
func (r *room) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch scope.(type) {
	case *asgi.HTTPScope:
		body := []byte("connect with a WebSocket client to join the room\n")
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H(
			"content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(body)))}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: body})
	case *asgi.WebSocketScope:
		return r.serveMember(ctx, receive, send)
	}
	return nil // lifespan: not needed
}

func (r *room) serveMember(ctx context.Context, receive asgi.Receive, send asgi.Send) error {
	q := queue(make(chan asgi.Message, 64))
	m := &member{room: r, send: q}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { // the writer: the only sender of this connection's messages
		defer close(done)
		for {
			select {
			case msg := <-q:
				if send(ctx, msg) != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() { cancel(); <-done }()
	defer r.leave(m) // also when receive fails without a websocket.disconnect
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		if err := m.HandleWebSocket(msg, q); err != nil {
			return err
		}
		if _, ok := msg.(*asgi.WebSocketDisconnect); ok {
			return nil
		}
	}
}

// queue is the goroutine mode's asgi.WebSocketSender: SendNow enqueues for the writer
// goroutine, and a full queue is backpressure.
type queue chan asgi.Message

func (q queue) SendNow(msg asgi.Message) error {
	select {
	case q <- msg:
		return nil
	default:
		return asgi.ErrBackpressure
	}
}

// ignoreGone treats a client that left during its handshake as a normal end.
func ignoreGone(err error) error {
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}

func main() { asgo.Run(newRoom()) }
