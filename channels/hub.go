package channels

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// Hub is the local half of a layer, shared by the backends: this instance's channels,
// their groups, and the delivery to them. It is safe for concurrent use; Deliver
// calls run with a read lock held, which is why a Receiver must not call the layer.
type Hub struct {
	prefix string // channel names are prefix + counter
	next   atomic.Uint64

	mu sync.RWMutex
	// Guarded by mu:
	chans  map[string]*hubChan
	groups map[string]map[*hubChan]struct{}
}

type hubChan struct {
	name   string
	r      Receiver
	groups map[string]struct{} // guarded by Hub.mu
}

// NewHub returns an empty hub whose channel names start with instance + "!"; instance
// must be unique in the cluster and follow the group name rules.
func NewHub(instance string) *Hub {
	return &Hub{prefix: instance + "!", chans: make(map[string]*hubChan), groups: make(map[string]map[*hubChan]struct{})}
}

// Owns reports whether channel was named by this hub (whether or not it is open).
func (h *Hub) Owns(channel string) bool {
	return len(channel) > len(h.prefix) && channel[:len(h.prefix)] == h.prefix
}

// NewChannel registers r and returns its channel name.
func (h *Hub) NewChannel(r Receiver) (string, error) {
	if r == nil {
		return "", fmt.Errorf("channels: NewChannel: nil Receiver")
	}
	c := &hubChan{name: h.prefix + strconv.FormatUint(h.next.Add(1), 36), r: r, groups: make(map[string]struct{})}
	h.mu.Lock()
	h.chans[c.name] = c
	h.mu.Unlock()
	return c.name, nil
}

// CloseChannel removes channel and returns the groups it left and those of them that
// have no local member any more.
func (h *Hub) CloseChannel(channel string) (left, emptied []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.chans[channel]
	if c == nil {
		return nil, nil
	}
	delete(h.chans, channel)
	for g := range c.groups {
		left = append(left, g)
		if h.discardLocked(g, c) {
			emptied = append(emptied, g)
		}
	}
	return left, emptied
}

// Add puts channel in group; first reports that it is the group's first local member.
func (h *Hub) Add(group, channel string) (first bool, err error) {
	if err := CheckGroup(group); err != nil {
		return false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.chans[channel]
	if c == nil {
		return false, fmt.Errorf("%w: %q", ErrUnknownChannel, channel)
	}
	members := h.groups[group]
	if members == nil {
		members = make(map[*hubChan]struct{})
		h.groups[group] = members
	}
	first = len(members) == 0
	members[c] = struct{}{}
	c.groups[group] = struct{}{}
	return first, nil
}

// Discard takes channel out of group; last reports that the group has no local member
// left because of it, found that channel was in it.
func (h *Hub) Discard(group, channel string) (last, found bool, err error) {
	if err := CheckGroup(group); err != nil {
		return false, false, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.chans[channel]
	if c == nil {
		return false, false, nil
	}
	if _, ok := c.groups[group]; !ok {
		return false, false, nil
	}
	delete(c.groups, group)
	return h.discardLocked(group, c), true, nil
}

// discardLocked removes c from group's members and reports whether group is now empty.
func (h *Hub) discardLocked(group string, c *hubChan) bool {
	members := h.groups[group]
	delete(members, c)
	if len(members) == 0 {
		delete(h.groups, group)
		return true
	}
	return false
}

// DeliverGroup gives d to every local member of d.Group and returns how many.
func (h *Hub) DeliverGroup(d *Delivery) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	members := h.groups[d.Group]
	for c := range members {
		c.r.Deliver(d)
	}
	return len(members)
}

// DeliverChannel gives d to channel if it is open here and reports whether it was.
func (h *Hub) DeliverChannel(channel string, d *Delivery) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	c := h.chans[channel]
	if c != nil {
		c.r.Deliver(d)
	}
	return c != nil
}

// HasGroup reports whether group has a local member.
func (h *Hub) HasGroup(group string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.groups[group]) > 0
}

// Members returns the local channels of group.
func (h *Hub) Members(group string) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.groups[group]))
	for c := range h.groups[group] {
		out = append(out, c.name)
	}
	return out
}

// Groups returns the groups that have local members.
func (h *Hub) Groups() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.groups))
	for g := range h.groups {
		out = append(out, g)
	}
	return out
}

// Channels returns the number of open local channels.
func (h *Hub) Channels() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.chans)
}
