package chat

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Page is chat.html, the browser client of the room. With ?selftest in its URL it opens
// two connections, exchanges messages through the room and writes the verdict into its
// #status element and its title ("selftest: ok" or "selftest: failed: ...").
//
//go:embed chat.html
var Page []byte

// Defaults applied to zero Config fields.
const (
	DefaultQueueMessages = 64
	DefaultQueueBytes    = 4 << 20
	DefaultMaxMembers    = 10000
	// DefaultMaxMessageSize is the demo's message limit, 64 KiB: a chat line, not a
	// file transfer. Every member gets each message, so the limit bounds what one
	// member can make the room send.
	DefaultMaxMessageSize = 64 << 10
)

// Close codes the room sends.
const (
	// CloseSlowMember is sent to a member whose queue overflowed (event mode: whose
	// connection had too much unsent output to take a broadcast).
	CloseSlowMember = 1008
	// CloseTooBig closes a member that sent a message over Config.MaxMessageSize.
	CloseTooBig = 1009
	// CloseRoomFull refuses a client beyond Config.MaxMembers (before the handshake is
	// accepted, so the client sees a 403).
	CloseRoomFull = 1013
)

// Config bounds the room. The zero value means the defaults.
type Config struct {
	// QueueMessages is how many messages may wait for one member. If zero, 64.
	QueueMessages int
	// QueueBytes is how many payload bytes may wait for one member. If zero, 4 MiB.
	QueueBytes int64
	// MaxMembers caps the room; later clients are refused (403). If zero, 10000.
	MaxMembers int
	// MaxMessageSize is the largest message a member may send; a larger one closes
	// its connection with CloseTooBig (1009). In event mode the server applies it to
	// the connection (asgi.WebSocketMessageLimiter), so the message is refused at its
	// first frame header, unread. If zero, 64 KiB.
	MaxMessageSize int
}

// Normalize returns c with every unset (zero or negative) limit replaced by its
// default, the values a Room made with c enforces.
func (c Config) Normalize() Config {
	if c.QueueMessages <= 0 {
		c.QueueMessages = DefaultQueueMessages
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.MaxMembers <= 0 {
		c.MaxMembers = DefaultMaxMembers
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	return c
}

// Room is one chat room and the asgi.App serving it. Its methods are safe for
// concurrent use. Create it with New.
type Room struct {
	cfg Config
	mu  sync.Mutex
	// Guarded by mu:
	members map[member]struct{}
}

// New returns an empty room.
func New(cfg Config) *Room {
	return &Room{cfg: cfg.Normalize(), members: make(map[member]struct{})}
}

// member is one connection in the room. deliver hands it a broadcast and never
// blocks: a member that cannot take it is disconnected with CloseSlowMember instead.
// It is called with the room's mu held.
type member interface {
	deliver(r *Room, msg outbound)
}

// outbound is one broadcast: data is shared read-only by every member's queue, and
// prepared encodes it once for the event-mode members (asgi.PreparedMessage).
type outbound struct {
	data     []byte
	text     bool
	prepared *asgi.PreparedMessage
}

// queuedMember is a member served through ServeASGI: broadcasts wait in a bounded
// queue that the member's writer goroutine drains.
type queuedMember struct {
	queue  chan outbound
	queued atomic.Int64  // payload bytes in queue
	kick   chan struct{} // closed once when the member overflows
	kicked atomic.Bool
}

func (m *queuedMember) overflow() {
	if m.kicked.CompareAndSwap(false, true) {
		close(m.kick)
	}
}

var (
	htmlHeaders = asgi.Headers{
		{Name: httpx.NameContentType, Value: []byte("text/html; charset=utf-8")},
		{Name: httpx.NameContentLength, Value: []byte(strconv.Itoa(len(Page)))},
		{Name: []byte("cache-control"), Value: []byte("no-cache")},
	}
	allow = []byte("GET, HEAD")
)

// ServeASGI joins WebSocket clients to the room and serves the page to HTTP GET and
// HEAD. Lifespan is not supported.
func (r *Room) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.WebSocketScope:
		return r.serveMember(ctx, receive, send)
	case *asgi.HTTPScope:
		if s.Method != "GET" && s.Method != "HEAD" {
			return httpx.MethodNotAllowed(ctx, send, allow)
		}
		return httpx.Full(ctx, send, 200, htmlHeaders, Page)
	}
	return fmt.Errorf("chat: unsupported scope type %q", scope.Type())
}

// Members returns the number of members in the room.
func (r *Room) Members() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// Broadcast queues one message for every member. It never blocks: a member whose queue
// is full is disconnected instead. data must not be modified afterwards. The message
// is prepared once (asgi.PreparedMessage): members served in event mode get the same
// encoded frame by reference, so a broadcast costs about one copy of the message
// whatever the number of members, and a member that cannot take it costs nothing.
func (r *Room) Broadcast(data []byte, text bool) {
	msg := outbound{data: data, text: text, prepared: asgi.NewPreparedMessage(data, text)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := range r.members {
		m.deliver(r, msg)
	}
}

func (m *queuedMember) deliver(r *Room, msg outbound) {
	if m.kicked.Load() || m.queued.Load()+int64(len(msg.data)) > r.cfg.QueueBytes {
		m.overflow()
		return
	}
	select {
	case m.queue <- msg:
		m.queued.Add(int64(len(msg.data)))
	default:
		m.overflow()
	}
}

// join adds m unless the room is full.
func (r *Room) join(m member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.members) >= r.cfg.MaxMembers {
		return false
	}
	r.members[m] = struct{}{}
	return true
}

func (r *Room) leave(m member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, m)
}

// serveMember runs one connection: the app goroutine reads and broadcasts, a writer
// goroutine drains the member's queue. Both end before serveMember returns.
func (r *Room) serveMember(ctx context.Context, receive asgi.Receive, send asgi.Send) error {
	if err := expectConnect(ctx, receive); err != nil {
		return err
	}
	m := &queuedMember{queue: make(chan outbound, r.cfg.QueueMessages), kick: make(chan struct{})}
	if !r.join(m) {
		return send(ctx, &asgi.WebSocketClose{Code: CloseRoomFull})
	}
	defer r.leave(m)
	if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		writeLoop(wctx, m, send)
	}()
	err := r.readLoop(ctx, receive, send)
	r.leave(m)
	stop()
	wg.Wait()
	return err
}

func (r *Room) readLoop(ctx context.Context, receive asgi.Receive, send asgi.Send) error {
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		switch msg := msg.(type) {
		case *asgi.WebSocketReceive:
			if len(msg.Data) > r.cfg.MaxMessageSize {
				return send(ctx, &asgi.WebSocketClose{Code: CloseTooBig, Reason: "message too big"})
			}
			r.Broadcast(msg.Data, msg.Text)
		case *asgi.WebSocketDisconnect:
			return nil
		}
	}
}

// writeLoop sends queued messages until ctx ends, the connection is gone or the member
// overflowed (then it closes the connection with 1008).
func writeLoop(ctx context.Context, m *queuedMember, send asgi.Send) {
	for {
		select {
		case msg := <-m.queue:
			m.queued.Add(-int64(len(msg.data)))
			if send(ctx, &asgi.WebSocketSend{Data: msg.data, Text: msg.text}) != nil {
				return
			}
		case <-m.kick:
			_ = send(ctx, &asgi.WebSocketClose{Code: CloseSlowMember, Reason: "too slow"})
			return
		case <-ctx.Done():
			return
		}
	}
}

func expectConnect(ctx context.Context, receive asgi.Receive) error {
	m, err := receive(ctx)
	if err != nil {
		return err
	}
	if _, ok := m.(*asgi.WebSocketConnect); !ok {
		return fmt.Errorf("chat: expected websocket.connect, got %s", m.Type())
	}
	return nil
}

// WebSocketHandler serves every WebSocket scope in event mode (asgi.WebSocketEventer):
// a member needs no goroutine and no queue; a broadcast is queued to each member's
// connection at once by reference (asgi.SendPrepared), and a member whose connection
// cannot take it under the server's high-water mark is disconnected with
// CloseSlowMember, without being given the message.
func (r *Room) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler {
	return &eventMember{room: r}
}

// MaxMessageSize is the room's message limit (asgi.WebSocketMessageLimiter): the
// server refuses larger messages with 1009 before reading them.
func (m *eventMember) MaxMessageSize() int { return m.room.cfg.MaxMessageSize }

// eventMember is a member served in event mode.
type eventMember struct {
	room     *Room
	send     asgi.WebSocketSender // set on connect, before the member joins
	accepted atomic.Bool          // broadcasts before the accept are not for it yet
	kicked   atomic.Bool
}

func (m *eventMember) HandleWebSocket(msg asgi.Message, send asgi.WebSocketSender) error {
	switch msg := msg.(type) {
	case *asgi.WebSocketConnect:
		m.send = send
		if !m.room.join(m) {
			return ignoreGone(send.SendNow(&asgi.WebSocketClose{Code: CloseRoomFull}))
		}
		err := send.SendNow(&asgi.WebSocketAccept{})
		m.accepted.Store(err == nil)
		return ignoreGone(err)
	case *asgi.WebSocketReceive:
		if len(msg.Data) > m.room.cfg.MaxMessageSize { // a server without the limiter
			return ignoreGone(send.SendNow(&asgi.WebSocketClose{Code: CloseTooBig, Reason: "message too big"}))
		}
		// Data is valid only for this call; queued members keep what they are given.
		m.room.Broadcast(bytes.Clone(msg.Data), msg.Text)
	case *asgi.WebSocketDisconnect:
		m.room.leave(m)
	}
	return nil
}

func (m *eventMember) deliver(_ *Room, msg outbound) {
	if !m.accepted.Load() || m.kicked.Load() {
		return
	}
	err := asgi.SendPrepared(m.send, msg.prepared)
	if errors.Is(err, asgi.ErrBackpressure) && m.kicked.CompareAndSwap(false, true) {
		_ = m.send.SendNow(&asgi.WebSocketClose{Code: CloseSlowMember, Reason: "too slow"})
	}
}

// ignoreGone treats a client that left during its handshake as a normal end.
func ignoreGone(err error) error {
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}
