package channels

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"
)

// DefaultMaxMessageSize is the largest message a layer carries unless configured: 1 MiB.
const DefaultMaxMessageSize = 1 << 20

// MemoryConfig configures NewMemory. The zero value means the defaults.
type MemoryConfig struct {
	// Name is the instance name (Layer.Name). If empty, DefaultName().
	Name string
	// MaxMessageSize is the largest message GroupSend and Send take. If zero, 1 MiB.
	MaxMessageSize int
}

// Memory is the in-memory layer: every member is in this process, and a message is
// delivered on the sender's goroutine before GroupSend returns. It is the default
// layer. Safe for concurrent use.
type Memory struct {
	cfg    MemoryConfig
	hub    *Hub
	closed atomic.Bool
}

// NewMemory returns an in-memory layer.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.Name == "" {
		cfg.Name = DefaultName()
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	return &Memory{cfg: cfg, hub: NewHub("mem." + RandomID())}
}

// RandomID returns 16 random hex digits, for instance ids.
func RandomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Name returns the instance name.
func (m *Memory) Name() string { return m.cfg.Name }

// NewChannel registers r.
func (m *Memory) NewChannel(r Receiver) (string, error) {
	if m.closed.Load() {
		return "", ErrClosed
	}
	return m.hub.NewChannel(r)
}

// CloseChannel removes channel from its groups.
func (m *Memory) CloseChannel(channel string) { m.hub.CloseChannel(channel) }

// GroupAdd adds channel to group.
func (m *Memory) GroupAdd(_ context.Context, group, channel string) error {
	if m.closed.Load() {
		return ErrClosed
	}
	_, err := m.hub.Add(group, channel)
	return err
}

// GroupDiscard takes channel out of group.
func (m *Memory) GroupDiscard(_ context.Context, group, channel string) error {
	_, _, err := m.hub.Discard(group, channel)
	return err
}

// GroupSend delivers msg to the group's members before it returns.
func (m *Memory) GroupSend(_ context.Context, group string, msg Message) error {
	if err := m.check(msg); err != nil {
		return err
	}
	if err := CheckGroup(group); err != nil {
		return err
	}
	m.hub.DeliverGroup(NewDelivery(group, msg.Data, msg.Text))
	return nil
}

// Send delivers msg to channel before it returns; an unknown channel drops it.
func (m *Memory) Send(_ context.Context, channel string, msg Message) error {
	if err := m.check(msg); err != nil {
		return err
	}
	if err := CheckChannel(channel); err != nil {
		return err
	}
	m.hub.DeliverChannel(channel, NewDelivery("", msg.Data, msg.Text))
	return nil
}

func (m *Memory) check(msg Message) error {
	if m.closed.Load() {
		return ErrClosed
	}
	if len(msg.Data) > m.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooBig, len(msg.Data), m.cfg.MaxMessageSize)
	}
	return nil
}

// GroupMembers returns the group's channels.
func (m *Memory) GroupMembers(_ context.Context, group string) ([]string, error) {
	if err := CheckGroup(group); err != nil {
		return nil, err
	}
	return m.hub.Members(group), nil
}

// Stats returns zero counters: nothing leaves the process.
func (m *Memory) Stats() Stats { return Stats{} }

// Close makes later calls fail with ErrClosed.
func (m *Memory) Close() error {
	m.closed.Store(true)
	return nil
}
