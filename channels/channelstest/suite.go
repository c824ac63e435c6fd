// Package channelstest is the contract test suite of package channels: Run checks a
// backend against the semantics the package documents. Both backends run it.
package channelstest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/channels"
)

// Open returns two layers of one cluster (the same layer twice for a single-process
// backend), closed by the test's cleanup.
type Open func(t *testing.T) (a, b channels.Layer)

// Run runs the contract suite against the backend open makes.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		f    func(t *testing.T, a, b channels.Layer)
	}{
		{"BadNames", testBadNames},
		{"UnknownChannel", testUnknownChannel},
		{"TooBig", testTooBig},
		{"GroupSendLocal", testGroupSendLocal},
		{"OneDeliveryPerInstance", testOneDelivery},
		{"GroupSendAcrossInstances", testAcross},
		{"OrderPerSender", testOrder},
		{"Discard", testDiscard},
		{"CloseChannelLeavesGroups", testCloseChannel},
		{"SendToChannel", testSend},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			tt.f(t, a, b)
		})
	}
}

// Collector is a Receiver that records what it is given.
type Collector struct {
	mu  sync.Mutex
	got []*channels.Delivery
}

// Deliver records d.
func (c *Collector) Deliver(d *channels.Delivery) {
	c.mu.Lock()
	c.got = append(c.got, d)
	c.mu.Unlock()
}

// Got returns the deliveries so far.
func (c *Collector) Got() []*channels.Delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// Wait waits until c holds n deliveries.
func (c *Collector) Wait(t *testing.T, n int) []*channels.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.Got()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d deliveries, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func member(t *testing.T, l channels.Layer, groups ...string) (*Collector, string) {
	t.Helper()
	c := new(Collector)
	name, err := l.NewChannel(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if err := l.GroupAdd(context.Background(), g, name); err != nil {
			t.Fatal(err)
		}
	}
	return c, name
}

// WaitMembers waits until GroupMembers(group) on l lists n channels, which for a
// cross-instance backend also means their instances subscribed to group.
func WaitMembers(t *testing.T, l channels.Layer, group string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := l.GroupMembers(context.Background(), group)
		if err == nil && len(m) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: %d members (err %v), want %d", group, len(m), err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func msg(s string) channels.Message { return channels.Message{Data: []byte(s), Text: true} }

var ctx = context.Background()

func testBadNames(t *testing.T, a, _ channels.Layer) {
	_, ch := member(t, a)
	for _, g := range []string{"", "has space", "ünicode", string(make([]byte, 101)), "a/b"} {
		if err := a.GroupAdd(ctx, g, ch); !errors.Is(err, channels.ErrInvalidName) {
			t.Errorf("GroupAdd(%q): %v, want ErrInvalidName", g, err)
		}
		if err := a.GroupSend(ctx, g, msg("x")); !errors.Is(err, channels.ErrInvalidName) {
			t.Errorf("GroupSend(%q): %v, want ErrInvalidName", g, err)
		}
		if _, err := a.GroupMembers(ctx, g); !errors.Is(err, channels.ErrInvalidName) {
			t.Errorf("GroupMembers(%q): %v, want ErrInvalidName", g, err)
		}
	}
	if err := a.Send(ctx, "bad channel", msg("x")); !errors.Is(err, channels.ErrInvalidName) {
		t.Errorf("Send to a bad name: %v", err)
	}
}

func testUnknownChannel(t *testing.T, a, _ channels.Layer) {
	if err := a.GroupAdd(ctx, "g", "nobody!1"); !errors.Is(err, channels.ErrUnknownChannel) {
		t.Fatalf("GroupAdd of an unknown channel: %v", err)
	}
	if _, err := a.NewChannel(nil); err == nil {
		t.Fatal("NewChannel(nil) succeeded")
	}
}

func testTooBig(t *testing.T, a, _ channels.Layer) {
	big := channels.Message{Data: make([]byte, channels.DefaultMaxMessageSize+1)}
	if err := a.GroupSend(ctx, "g", big); !errors.Is(err, channels.ErrTooBig) {
		t.Fatalf("GroupSend of %d bytes: %v", len(big.Data), err)
	}
}

func testGroupSendLocal(t *testing.T, a, _ channels.Layer) {
	c1, _ := member(t, a, "room")
	c2, _ := member(t, a, "room", "other")
	c3, _ := member(t, a, "other")
	if err := a.GroupSend(ctx, "room", msg("hi")); err != nil {
		t.Fatal(err)
	}
	for i, c := range []*Collector{c1, c2} {
		got := c.Wait(t, 1)
		if len(got) != 1 || string(got[0].Data) != "hi" || !got[0].Text || got[0].Group != "room" {
			t.Fatalf("member %d got %v", i, got)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(c3.Got()); n != 0 {
		t.Fatalf("a non-member got %d messages", n)
	}
	if n := len(c1.Got()) + len(c2.Got()); n != 2 {
		t.Fatalf("members got %d messages, want 2 (once each)", n)
	}
}

func testOneDelivery(t *testing.T, a, _ channels.Layer) {
	c1, _ := member(t, a, "g")
	c2, _ := member(t, a, "g")
	if err := a.GroupSend(ctx, "g", msg("once")); err != nil {
		t.Fatal(err)
	}
	d1, d2 := c1.Wait(t, 1)[0], c2.Wait(t, 1)[0]
	if d1 != d2 || d1.Prepared() != d2.Prepared() {
		t.Fatal("local members were given different deliveries: the frame would be encoded twice")
	}
}

func testAcross(t *testing.T, a, b channels.Layer) {
	ca, _ := member(t, a, "x")
	cb, _ := member(t, b, "x")
	WaitMembers(t, a, "x", 2)
	if err := a.GroupSend(ctx, "x", msg("from a")); err != nil {
		t.Fatal(err)
	}
	if err := b.GroupSend(ctx, "x", msg("from b")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Collector{ca, cb} {
		got := c.Wait(t, 2)
		var s []string
		for _, d := range got {
			s = append(s, string(d.Data))
		}
		slices.Sort(s)
		if !slices.Equal(s, []string{"from a", "from b"}) {
			t.Fatalf("got %q", s)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if len(ca.Got()) != 2 || len(cb.Got()) != 2 {
		t.Fatalf("duplicates: a %d, b %d", len(ca.Got()), len(cb.Got()))
	}
}

func testOrder(t *testing.T, a, b channels.Layer) {
	const n = 2000
	ca, _ := member(t, a, "seq")
	cb, _ := member(t, b, "seq")
	WaitMembers(t, a, "seq", 2)
	var wg sync.WaitGroup
	for s, l := range []channels.Layer{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				if err := l.GroupSend(ctx, "seq", msg(fmt.Sprintf("%d %d", s, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range []*Collector{ca, cb} {
		got := c.Wait(t, 2*n)
		last := []int{-1, -1}
		for _, d := range got {
			var s, i int
			if _, err := fmt.Sscanf(string(d.Data), "%d %d", &s, &i); err != nil {
				t.Fatal(err)
			}
			if i <= last[s] {
				t.Fatalf("sender %d: message %d after %d", s, i, last[s])
			}
			last[s] = i
		}
	}
}

func testDiscard(t *testing.T, a, b channels.Layer) {
	c1, ch1 := member(t, a, "d")
	c2, _ := member(t, b, "d")
	WaitMembers(t, a, "d", 2)
	if err := a.GroupDiscard(ctx, "d", ch1); err != nil {
		t.Fatal(err)
	}
	if err := a.GroupDiscard(ctx, "d", ch1); err != nil {
		t.Fatalf("second discard: %v", err)
	}
	WaitMembers(t, a, "d", 1)
	if err := b.GroupSend(ctx, "d", msg("after")); err != nil {
		t.Fatal(err)
	}
	if err := a.GroupSend(ctx, "d", msg("after2")); err != nil {
		t.Fatal(err)
	}
	c2.Wait(t, 2)
	time.Sleep(100 * time.Millisecond)
	if n := len(c1.Got()); n != 0 {
		t.Fatalf("a discarded member got %d messages", n)
	}
}

func testCloseChannel(t *testing.T, a, _ channels.Layer) {
	c1, ch1 := member(t, a, "c1", "c2")
	a.CloseChannel(ch1)
	a.CloseChannel(ch1)
	_ = a.GroupSend(ctx, "c1", msg("x"))
	_ = a.GroupSend(ctx, "c2", msg("x"))
	_ = a.Send(ctx, ch1, msg("x"))
	time.Sleep(50 * time.Millisecond)
	if n := len(c1.Got()); n != 0 {
		t.Fatalf("a closed channel got %d messages", n)
	}
	WaitMembers(t, a, "c1", 0)
	if err := a.GroupAdd(ctx, "c1", ch1); !errors.Is(err, channels.ErrUnknownChannel) {
		t.Fatalf("GroupAdd of a closed channel: %v", err)
	}
}

func testSend(t *testing.T, a, b channels.Layer) {
	ca, cha := member(t, a)
	cb, chb := member(t, b)
	// b's instance channel is subscribed when the layer starts.
	if err := a.Send(ctx, chb, msg("to b")); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(ctx, cha, msg("to a")); err != nil {
		t.Fatal(err)
	}
	if got := cb.Wait(t, 1); string(got[0].Data) != "to b" || got[0].Group != "" {
		t.Fatalf("b got %q", got[0].Data)
	}
	if got := ca.Wait(t, 1); string(got[0].Data) != "to a" {
		t.Fatalf("a got %q", got[0].Data)
	}
	if err := a.Send(ctx, "gone!1", msg("x")); err != nil {
		t.Fatalf("Send to an unknown channel: %v", err)
	}
}

func testClosed(t *testing.T, a, _ channels.Layer) {
	_, ch := member(t, a)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.GroupSend(ctx, "g", msg("x")); !errors.Is(err, channels.ErrClosed) {
		t.Fatalf("GroupSend after Close: %v", err)
	}
	if err := a.GroupAdd(ctx, "g", ch); !errors.Is(err, channels.ErrClosed) {
		t.Fatalf("GroupAdd after Close: %v", err)
	}
	if _, err := a.NewChannel(new(Collector)); !errors.Is(err, channels.ErrClosed) {
		t.Fatalf("NewChannel after Close: %v", err)
	}
}
