package chat

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/channels"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Page is chat.html, the browser client of the room. With ?selftest in its URL it opens
// two connections, exchanges messages through the room and writes the verdict into its
// #status element and its title ("selftest: ok" or "selftest: failed: ..."). With
// ?room=NAME it joins that room. The room serves it with {{instance}} replaced by the
// name of the instance that served it (channels.Layer.Name).
//
//go:embed chat.html
var Page []byte

// DefaultRoom is the room of a client that names none.
const DefaultRoom = "main"

// MaxRoomLen is the longest room name; a name is letters, digits, '-', '_' and '.'.
const MaxRoomLen = 64

// groupPrefix turns a room name into its channel-layer group.
const groupPrefix = "chat."

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
	// CloseBadRoom refuses a client whose room name is invalid (before the handshake,
	// so the client sees a 403).
	CloseBadRoom = 1008
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
	// Layer carries the rooms' messages (each room is the group "chat."+name), so
	// that members connected to other instances sharing the layer are in the same
	// rooms. If nil, a private in-memory layer: the rooms of this Room value only.
	// The demo uses channels.Default(), the layer the server was configured with.
	Layer channels.Layer
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
	if c.Layer == nil {
		c.Layer = channels.NewMemory(channels.MemoryConfig{})
	}
	return c
}

// Room is the chat's rooms and the asgi.App serving them: a client joins the room its
// URL names (/chat?room=NAME, DefaultRoom without) on this instance, and through
// Config.Layer the same room on every instance sharing the layer. Its methods are safe
// for concurrent use. Create it with New.
type Room struct {
	cfg Config
	mu  sync.Mutex
	// Guarded by mu:
	members map[member]struct{}
	joining int // members past the capacity check, not yet in their group (join)

	pageOnce sync.Once
	page     []byte // Page with the instance name, made at the first request
	pageHdrs asgi.Headers
}

// New returns the rooms, empty.
func New(cfg Config) *Room {
	return &Room{cfg: cfg.Normalize(), members: make(map[member]struct{})}
}

// member is one connection in a room. deliver hands it a broadcast and never blocks:
// a member that cannot take it is disconnected with CloseSlowMember instead. It is
// called by the layer (channels.Receiver), on a sender's goroutine or the layer's.
type member interface {
	deliver(d *channels.Delivery)
}

// receiver adapts a member to channels.Receiver.
type receiver struct{ m member }

func (r receiver) Deliver(d *channels.Delivery) { r.m.deliver(d) }

// outbound is one broadcast: data is shared read-only by every member's queue.
type outbound struct {
	data []byte
	text bool
}

// queuedMember is a member served through ServeASGI: broadcasts wait in a bounded
// queue that the member's writer goroutine drains.
type queuedMember struct {
	queue  chan outbound
	queued atomic.Int64  // payload bytes in queue
	kick   chan struct{} // closed once when the member overflows
	kicked atomic.Bool
	// maxBytes is Config.QueueBytes.
	maxBytes int64
}

func (m *queuedMember) overflow() {
	if m.kicked.CompareAndSwap(false, true) {
		close(m.kick)
	}
}

var allow = []byte("GET, HEAD")

// ServeASGI joins WebSocket clients to their room and serves the page to HTTP GET and
// HEAD. Lifespan is not supported.
func (r *Room) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.WebSocketScope:
		return r.serveMember(ctx, s, receive, send)
	case *asgi.HTTPScope:
		if s.Method != "GET" && s.Method != "HEAD" {
			return httpx.MethodNotAllowed(ctx, send, allow)
		}
		page, hdrs := r.renderedPage()
		return httpx.Full(ctx, send, 200, hdrs, page)
	}
	return fmt.Errorf("chat: unsupported scope type %q", scope.Type())
}

// renderedPage returns Page naming this instance, made once: the layer is asked
// only when the first request comes, after the server installed its layer.
func (r *Room) renderedPage() ([]byte, asgi.Headers) {
	r.pageOnce.Do(func() {
		r.page = bytes.ReplaceAll(Page, []byte("{{instance}}"), []byte(html.EscapeString(r.cfg.Layer.Name())))
		r.pageHdrs = asgi.Headers{
			{Name: httpx.NameContentType, Value: []byte("text/html; charset=utf-8")},
			{Name: httpx.NameContentLength, Value: []byte(strconv.Itoa(len(r.page)))},
			{Name: []byte("cache-control"), Value: []byte("no-cache")},
		}
	})
	return r.page, r.pageHdrs
}

// RoomName returns the room a query string names (room=NAME; DefaultRoom when
// absent or empty), or an error saying why the name is not allowed.
func RoomName(query []byte) (string, error) {
	v, err := url.ParseQuery(string(query))
	if err != nil {
		return "", fmt.Errorf("chat: bad query string: %w", err)
	}
	name := v.Get("room")
	if name == "" {
		return DefaultRoom, nil
	}
	if len(name) > MaxRoomLen {
		return "", fmt.Errorf("chat: room name longer than %d bytes", MaxRoomLen)
	}
	if err := channels.CheckGroup(name); err != nil {
		return "", fmt.Errorf("chat: room name: %w", err)
	}
	return name, nil
}

// Members returns the number of members connected to this instance, in every room.
func (r *Room) Members() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members)
}

// Broadcast sends one message to every member of DefaultRoom; see BroadcastTo.
func (r *Room) Broadcast(data []byte, text bool) error {
	return r.BroadcastTo(DefaultRoom, data, text)
}

// BroadcastTo sends one message to every member of room, on every instance of the
// layer. It never blocks: a member whose queue is full is disconnected instead.
// data must not be modified afterwards. The layer makes one channels.Delivery of it
// per instance, prepared once (asgi.PreparedMessage): members served in event mode
// get the same encoded frame by reference, so a broadcast costs about one copy of the
// message per instance whatever the number of members, and a member that cannot take
// it costs nothing. The local members have it when BroadcastTo returns; an error
// from the layer (channels.ErrUnavailable: other instances were not reached) is
// returned.
func (r *Room) BroadcastTo(room string, data []byte, text bool) error {
	return r.cfg.Layer.GroupSend(context.Background(), groupPrefix+room, channels.Message{Data: data, Text: text})
}

func (m *queuedMember) deliver(d *channels.Delivery) {
	if m.kicked.Load() || m.queued.Load()+int64(len(d.Data)) > m.maxBytes {
		m.overflow()
		return
	}
	select {
	case m.queue <- outbound{data: d.Data, text: d.Text}:
		m.queued.Add(int64(len(d.Data)))
	default:
		m.overflow()
	}
}

// join adds m to room unless the instance's rooms are full; it returns m's channel,
// "" if refused.
func (r *Room) join(m member, room string) (string, error) {
	r.mu.Lock()
	if len(r.members)+r.joining >= r.cfg.MaxMembers {
		r.mu.Unlock()
		return "", nil
	}
	r.joining++
	r.mu.Unlock()
	ch, err := r.cfg.Layer.NewChannel(receiver{m})
	if err == nil {
		err = r.cfg.Layer.GroupAdd(context.Background(), groupPrefix+room, ch)
	}
	// A member counts (Members) only once it is in its group: a broadcast after that
	// reaches it.
	r.mu.Lock()
	r.joining--
	if err == nil {
		r.members[m] = struct{}{}
	}
	r.mu.Unlock()
	if err != nil {
		r.leave(m, ch)
		return "", err
	}
	return ch, nil
}

func (r *Room) leave(m member, ch string) {
	if ch != "" {
		r.cfg.Layer.CloseChannel(ch)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, m)
}

// serveMember runs one connection: the app goroutine reads and broadcasts, a writer
// goroutine drains the member's queue. Both end before serveMember returns.
func (r *Room) serveMember(ctx context.Context, scope *asgi.WebSocketScope, receive asgi.Receive, send asgi.Send) error {
	if err := expectConnect(ctx, receive); err != nil {
		return err
	}
	room, err := RoomName(scope.QueryString)
	if err != nil {
		return send(ctx, &asgi.WebSocketClose{Code: CloseBadRoom, Reason: "bad room name"})
	}
	m := &queuedMember{queue: make(chan outbound, r.cfg.QueueMessages), kick: make(chan struct{}), maxBytes: r.cfg.QueueBytes}
	ch, err := r.join(m, room)
	if err != nil {
		return err
	}
	if ch == "" {
		return send(ctx, &asgi.WebSocketClose{Code: CloseRoomFull})
	}
	defer r.leave(m, ch)
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
	err = r.readLoop(ctx, room, receive, send)
	r.leave(m, ch)
	stop()
	wg.Wait()
	return err
}

func (r *Room) readLoop(ctx context.Context, room string, receive asgi.Receive, send asgi.Send) error {
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
			// Layer errors are counted and logged by the layer; the local room got it.
			_ = r.BroadcastTo(room, msg.Data, msg.Text)
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
// a member needs no goroutine; a broadcast is queued to each member's connection at
// once by reference (asgi.SendPrepared). A connection that cannot take it under the
// server's high-water mark keeps it in a backlog of references, retried with backoff
// as the connection drains; a member whose backlog passes Config.QueueMessages or
// QueueBytes is disconnected with CloseSlowMember.
func (r *Room) WebSocketHandler(scope *asgi.WebSocketScope) asgi.WebSocketHandler {
	return &eventMember{room: r, query: scope.QueryString}
}

// MaxMessageSize is the room's message limit (asgi.WebSocketMessageLimiter): the
// server refuses larger messages with 1009 before reading them.
func (m *eventMember) MaxMessageSize() int { return m.room.cfg.MaxMessageSize }

// eventMember is a member served in event mode.
type eventMember struct {
	room  *Room
	query []byte // the scope's query string: the room
	// Set on connect, before the member joins; used by the loop's calls after:
	send    asgi.WebSocketSender
	name    string // the room
	channel string // the member's layer channel; "" when it did not join
	// Set from any goroutine:
	accepted atomic.Bool // broadcasts before the accept are not for it yet
	kicked   atomic.Bool

	mu sync.Mutex
	// Guarded by mu: broadcasts its connection refused for backpressure, oldest first,
	// retried with backoff until it takes them (a burst, such as messages from other
	// instances arriving together, passes the high-water mark before the loop wrote
	// the first ones); beyond Config.QueueMessages or QueueBytes the member is slow.
	backlog      []*channels.Delivery
	backlogBytes int64
	retry        *time.Timer
	retryIn      time.Duration
}

// Backlog retry bounds: first retry soon (a reading peer drains in a loop turn), then,
// while no message leaves, back off so that a peer that does not read costs little until
// it is closed; a retry that sends anything starts again from minRetry.
const (
	minRetry = 5 * time.Millisecond
	maxRetry = 500 * time.Millisecond
)

func (m *eventMember) HandleWebSocket(msg asgi.Message, send asgi.WebSocketSender) error {
	switch msg := msg.(type) {
	case *asgi.WebSocketConnect:
		return m.connect(send)
	case *asgi.WebSocketReceive:
		if len(msg.Data) > m.room.cfg.MaxMessageSize { // a server without the limiter
			return ignoreGone(send.SendNow(&asgi.WebSocketClose{Code: CloseTooBig, Reason: "message too big"}))
		}
		// Data is valid only for this call; queued members keep what they are given.
		// Layer errors are counted and logged by the layer; the local room got it.
		_ = m.room.BroadcastTo(m.name, bytes.Clone(msg.Data), msg.Text)
	case *asgi.WebSocketDisconnect:
		if m.channel != "" {
			m.room.leave(m, m.channel)
		}
		m.mu.Lock()
		m.dropBacklogLocked()
		m.mu.Unlock()
	}
	return nil
}

func (m *eventMember) connect(send asgi.WebSocketSender) error {
	m.send = send
	room, err := RoomName(m.query)
	if err != nil {
		return ignoreGone(send.SendNow(&asgi.WebSocketClose{Code: CloseBadRoom, Reason: "bad room name"}))
	}
	m.name = room
	ch, err := m.room.join(m, room)
	if err != nil {
		return err
	}
	if ch == "" {
		return ignoreGone(send.SendNow(&asgi.WebSocketClose{Code: CloseRoomFull}))
	}
	m.channel = ch
	err = send.SendNow(&asgi.WebSocketAccept{})
	m.accepted.Store(err == nil)
	return ignoreGone(err)
}

func (m *eventMember) deliver(d *channels.Delivery) {
	if !m.accepted.Load() || m.kicked.Load() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.backlog) > 0 && !m.flushLocked() {
		return
	}
	if len(m.backlog) == 0 {
		err := asgi.SendPrepared(m.send, d.Prepared())
		if !errors.Is(err, asgi.ErrBackpressure) {
			return // sent, or the connection is gone
		}
	}
	cfg := &m.room.cfg
	if len(m.backlog) >= cfg.QueueMessages || m.backlogBytes+int64(len(d.Data)) > cfg.QueueBytes {
		m.kickLocked()
		return
	}
	m.backlog = append(m.backlog, d)
	m.backlogBytes += int64(len(d.Data))
	if m.retry == nil {
		m.retryIn = minRetry
		m.retry = time.AfterFunc(m.retryIn, m.retryBacklog)
	}
}

// flushLocked sends the backlog until the connection refuses; it reports false when
// the connection is gone or the member was closed.
func (m *eventMember) flushLocked() bool {
	for len(m.backlog) > 0 {
		err := asgi.SendPrepared(m.send, m.backlog[0].Prepared())
		if errors.Is(err, asgi.ErrBackpressure) {
			return true
		}
		if err != nil {
			m.dropBacklogLocked()
			return false
		}
		m.backlogBytes -= int64(len(m.backlog[0].Data))
		m.backlog[0] = nil
		m.backlog = m.backlog[1:]
	}
	if m.retry != nil {
		m.retry.Stop()
		m.retry = nil
	}
	return true
}

// retryBacklog runs on a timer while the member has a backlog.
func (m *eventMember) retryBacklog() {
	m.mu.Lock()
	defer m.mu.Unlock()
	before := len(m.backlog)
	if m.retry == nil || !m.flushLocked() || len(m.backlog) == 0 {
		return
	}
	if len(m.backlog) < before {
		m.retryIn = minRetry // it drains, only slower than the room: keep up with it
	} else {
		m.retryIn = min(2*m.retryIn, maxRetry)
	}
	m.retry = time.AfterFunc(m.retryIn, m.retryBacklog)
}

// kickLocked closes a slow member with CloseSlowMember, once.
func (m *eventMember) kickLocked() {
	if m.kicked.CompareAndSwap(false, true) {
		m.dropBacklogLocked()
		_ = m.send.SendNow(&asgi.WebSocketClose{Code: CloseSlowMember, Reason: "too slow"})
	}
}

func (m *eventMember) dropBacklogLocked() {
	clear(m.backlog)
	m.backlog, m.backlogBytes = nil, 0
	if m.retry != nil {
		m.retry.Stop()
		m.retry = nil
	}
}

// ignoreGone treats a client that left during its handshake as a normal end.
func ignoreGone(err error) error {
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}
