package channels

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Layer is a channel layer. Every method is safe for concurrent use and none blocks
// on the network: GroupAdd and GroupDiscard change the local membership at once and
// tell the broker (if any) in the background; GroupSend and Send deliver to the local
// members at once and queue the message for the other instances. They may therefore
// be called on an event loop (asgi.WebSocketHandler).
type Layer interface {
	// Name is the instance's name, for display and logs (hostname:pid unless set).
	Name() string
	// NewChannel registers r as a local member and returns its channel name, unique in
	// the cluster. r receives the messages sent to the channel and to its groups
	// until CloseChannel.
	NewChannel(r Receiver) (string, error)
	// CloseChannel takes channel out of every group and stops its delivery. Closing
	// an unknown or closed channel does nothing.
	CloseChannel(channel string)
	// GroupAdd adds the local channel to group. Local group messages reach it when
	// GroupAdd returns; messages from other instances a broker round-trip later. It
	// fails with ErrInvalidName, ErrUnknownChannel (not made by this layer's
	// NewChannel, or closed) or ErrClosed.
	GroupAdd(ctx context.Context, group, channel string) error
	// GroupDiscard takes channel out of group; not being in it is not an error.
	GroupDiscard(ctx context.Context, group, channel string) error
	// GroupSend sends msg to every member of group. msg.Data is retained (shared by
	// the members' deliveries): it must not be modified afterwards. The local members
	// have been given msg when it returns, even when it returns ErrUnavailable or
	// ErrQueueFull (other instances were not reached). Other errors: ErrInvalidName,
	// ErrTooBig, ErrClosed.
	GroupSend(ctx context.Context, group string, msg Message) error
	// Send sends msg to one channel, local or on another instance, with GroupSend's
	// rules; an unknown channel of a live instance drops it silently.
	Send(ctx context.Context, channel string, msg Message) error
	// GroupMembers returns the channels in group on every instance whose membership
	// has not expired, in no particular order. It may block on the broker, so call it
	// off the event loop.
	GroupMembers(ctx context.Context, group string) ([]string, error)
	// Close stops the layer: later calls fail with ErrClosed, and the instance's
	// memberships are removed from the broker (best effort).
	Close() error
}

// Message is what a layer carries: one WebSocket message.
type Message struct {
	Data []byte
	Text bool // a text message (Data is UTF-8) rather than binary
}

// Receiver is a local member. Deliver is called with each message for its channel,
// on the goroutine of a local sender or on the backend's receiving goroutine, so
// calls may overlap when messages come from several senders (those of one sender
// come in order). It must not block and must not call the layer (a goroutine it
// starts may); it may keep d.
type Receiver interface {
	Deliver(d *Delivery)
}

// ReceiverFunc adapts a function to Receiver.
type ReceiverFunc func(d *Delivery)

// Deliver calls f(d).
func (f ReceiverFunc) Deliver(d *Delivery) { f(d) }

// Delivery is one message as the local members receive it: the same *Delivery for
// every local member of a group. It is immutable and safe for concurrent use.
type Delivery struct {
	// Group is the group the message was sent to; "" for Send.
	Group string
	// Data is the payload, shared: it must not be modified.
	Data []byte
	// Text reports a text message.
	Text bool

	once     sync.Once
	prepared *asgi.PreparedMessage
}

// NewDelivery returns a Delivery of data (retained, not copied); for backends.
func NewDelivery(group string, data []byte, text bool) *Delivery {
	return &Delivery{Group: group, Data: data, Text: text}
}

// Prepared returns the message as an asgi.PreparedMessage, made once per Delivery:
// every local member that sends it with asgi.SendPrepared shares one WebSocket frame
// per compression setting.
func (d *Delivery) Prepared() *asgi.PreparedMessage {
	d.once.Do(func() { d.prepared = asgi.NewPreparedMessage(d.Data, d.Text) })
	return d.prepared
}

// Errors of the layer. Backends wrap them with detail; test with errors.Is.
var (
	// ErrInvalidName: a group or channel name breaks the name rules (see the package doc).
	ErrInvalidName = errors.New("channels: invalid name")
	// ErrUnknownChannel: GroupAdd was given a channel this layer did not make, or closed.
	ErrUnknownChannel = errors.New("channels: unknown channel")
	// ErrTooBig: the message is larger than the layer's MaxMessageSize.
	ErrTooBig = errors.New("channels: message too big")
	// ErrClosed: the layer was closed.
	ErrClosed = errors.New("channels: layer closed")
	// ErrUnavailable: the broker cannot be reached; local members were served, other
	// instances were not. The backend reconnects by itself.
	ErrUnavailable = errors.New("channels: broker unavailable; other instances not reached")
	// ErrQueueFull: the instance's outbound queue to the broker is full; local members
	// were served, other instances were not.
	ErrQueueFull = errors.New("channels: outbound queue full; other instances not reached")
)

// MaxNameLen is the longest group or channel name.
const MaxNameLen = 100

// CheckGroup returns an error wrapping ErrInvalidName if group breaks the name rules.
func CheckGroup(group string) error { return checkName("group", group, false) }

// CheckChannel returns an error wrapping ErrInvalidName if channel breaks the name rules.
func CheckChannel(channel string) error { return checkName("channel", channel, true) }

func checkName(kind, name string, bang bool) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: %s name must be 1 to %d bytes, got %d", ErrInvalidName, kind, MaxNameLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || bang && c == '!' {
			continue
		}
		return fmt.Errorf("%w: %s name %q has byte %q (allowed: letters, digits, - _ .)", ErrInvalidName, kind, name, c)
	}
	return nil
}

// DefaultName is the instance name used when none is set: hostname:pid.
func DefaultName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Stats are a layer's counters since it was made. Backends return them from Stats.
type Stats struct {
	Sent         uint64 // messages given to the broker for other instances
	Received     uint64 // messages received from other instances
	Unavailable  uint64 // sends that could not reach other instances: broker down
	QueueFull    uint64 // sends dropped for other instances: outbound queue full
	SendFailures uint64 // messages the broker refused or lost after they were queued
	Reconnects   uint64 // successful reconnections to the broker
}

var (
	defaultMu    sync.Mutex
	defaultLayer Layer // guarded by defaultMu; nil until first use or SetDefault
)

// SetDefault makes l the process's default layer (asgo.Serve does, with the layer its
// Config names) and returns the previous one. Safe for concurrent use.
func SetDefault(l Layer) Layer {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	prev := defaultLayer
	defaultLayer = l
	return prev
}

// Default returns a Layer that forwards every call to the process's default layer at
// the time of the call: what SetDefault installed last, or an in-memory layer made at
// first use. Apps built before the server chose its layer (the asgo command builds
// them before Serve) can thus keep it.
func Default() Layer { return forward{} }

func current() Layer {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if defaultLayer == nil {
		defaultLayer = NewMemory(MemoryConfig{})
	}
	return defaultLayer
}

// forward is Default's layer.
type forward struct{}

func (forward) Name() string                          { return current().Name() }
func (forward) NewChannel(r Receiver) (string, error) { return current().NewChannel(r) }
func (forward) CloseChannel(ch string)                { current().CloseChannel(ch) }
func (forward) GroupAdd(ctx context.Context, g, ch string) error {
	return current().GroupAdd(ctx, g, ch)
}
func (forward) GroupDiscard(ctx context.Context, g, ch string) error {
	return current().GroupDiscard(ctx, g, ch)
}
func (forward) GroupSend(ctx context.Context, g string, m Message) error {
	return current().GroupSend(ctx, g, m)
}
func (forward) Send(ctx context.Context, ch string, m Message) error {
	return current().Send(ctx, ch, m)
}
func (forward) GroupMembers(ctx context.Context, g string) ([]string, error) {
	return current().GroupMembers(ctx, g)
}

// Close does nothing: the default layer belongs to whoever installed it.
func (forward) Close() error { return nil }
