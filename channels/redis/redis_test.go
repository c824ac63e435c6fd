package redis_test

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/channels"
	"github.com/asgo-dev/asgo/channels/channelstest"
	"github.com/asgo-dev/asgo/channels/redis"
	"github.com/asgo-dev/asgo/internal/redistest"
)

func open(t *testing.T, url string, cfg redis.Config) *redis.Layer {
	t.Helper()
	cfg.URL = url
	l, err := redis.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestRedisContract(t *testing.T) {
	srv := redistest.Start(t)
	channelstest.Run(t, func(t *testing.T) (a, b channels.Layer) {
		return open(t, srv.URL(), redis.Config{}), open(t, srv.URL(), redis.Config{})
	})
}

func TestUnreachableAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	start := time.Now()
	_, err := redis.New(context.Background(), redis.Config{URL: srv.URL(), DialTimeout: time.Second})
	if err == nil {
		t.Fatal("New succeeded without a Redis")
	}
	t.Logf("error: %v (after %v)", err, time.Since(start))
	for _, bad := range []string{"http://x", "redis://", "redis://host:notaport/0", "redis://127.0.0.1:1/x"} {
		if _, err := redis.New(context.Background(), redis.Config{URL: bad, DialTimeout: 200 * time.Millisecond}); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
}

// TestRedisLostAndBack: while Redis is down local delivery goes on, cross-instance
// sends fail with ErrUnavailable and are counted, and neither goroutines nor memory
// grow; after a restart the groups are subscribed again and delivery resumes.
func TestRedisLostAndBack(t *testing.T) {
	srv := redistest.Start(t)
	cfg := redis.Config{ResubscribeJitter: 200 * time.Millisecond, Expiry: 3 * time.Second}
	a, b := open(t, srv.URL(), cfg), open(t, srv.URL(), cfg)
	ctx := context.Background()
	var cb channelstest.Collector
	var ca, ca2 counter // they keep no message, so the heap shows the layer's
	cha, _ := a.NewChannel(&ca)
	cha2, _ := a.NewChannel(&ca2)
	chb, _ := b.NewChannel(&cb)
	for _, m := range []struct {
		l  channels.Layer
		ch string
	}{{a, cha}, {a, cha2}, {b, chb}} {
		if err := m.l.GroupAdd(ctx, "room", m.ch); err != nil {
			t.Fatal(err)
		}
	}
	channelstest.WaitMembers(t, a, "room", 3)
	msg := channels.Message{Data: []byte("x")}

	srv.Kill()
	waitFor(t, "the layers notice", func() bool { return !a.Connected() && !b.Connected() })
	runtime.GC()
	g0 := runtime.NumGoroutine()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	deadline := time.Now().Add(3 * time.Second)
	sent := 0
	for time.Now().Before(deadline) {
		err := a.GroupSend(ctx, "room", msg)
		if !errors.Is(err, channels.ErrUnavailable) {
			t.Fatalf("GroupSend while down: %v", err)
		}
		sent++
		if sent%1000 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	runtime.GC()
	g1 := runtime.NumGoroutine()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	t.Logf("down: %d sends; goroutines %d -> %d; heap %d -> %d KiB", sent, g0, g1, m0.HeapInuse>>10, m1.HeapInuse>>10)
	if g1 > g0+2 {
		t.Errorf("goroutines grew while Redis was down: %d -> %d", g0, g1)
	}
	if m1.HeapInuse > m0.HeapInuse+8<<20 {
		t.Errorf("heap grew while Redis was down: %d -> %d KiB", m0.HeapInuse>>10, m1.HeapInuse>>10)
	}
	if got := int(ca2.n.Load()); got != sent {
		t.Errorf("local member got %d of %d messages while Redis was down", got, sent)
	}
	if got := a.Stats().Unavailable; got != uint64(sent) {
		t.Errorf("Stats().Unavailable = %d, want %d", got, sent)
	}

	srv.Restart()
	waitFor(t, "reconnected", func() bool { return a.Connected() && b.Connected() })
	channelstest.WaitMembers(t, a, "room", 3)
	before := len(cb.Got())
	if err := a.GroupSend(ctx, "room", channels.Message{Data: []byte("back")}); err != nil {
		t.Fatal(err)
	}
	got := cb.Wait(t, before+1)
	if string(got[len(got)-1].Data) != "back" {
		t.Fatalf("b got %q after the restart", got[len(got)-1].Data)
	}
	if a.Stats().Reconnects == 0 {
		t.Error("Reconnects not counted")
	}
}

// TestDeadInstanceExpires: the memberships of an instance that stops refreshing
// (killed: here its client is cut without Close) expire.
func TestDeadInstanceExpires(t *testing.T) {
	srv := redistest.Start(t)
	cfg := redis.Config{Expiry: 600 * time.Millisecond}
	a := open(t, srv.URL(), cfg)
	dead, err := redis.New(context.Background(), redis.Config{URL: srv.URL(), Expiry: 600 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, l := range []*redis.Layer{a, dead} {
		ch, _ := l.NewChannel(new(channelstest.Collector))
		if err := l.GroupAdd(ctx, "g", ch); err != nil {
			t.Fatal(err)
		}
	}
	channelstest.WaitMembers(t, a, "g", 2)
	dead.Abandon()
	time.Sleep(time.Second)
	channelstest.WaitMembers(t, a, "g", 1) // a keeps refreshing its own
	time.Sleep(time.Second)
	channelstest.WaitMembers(t, a, "g", 1)
}

type counter struct{ n atomic.Int64 }

func (c *counter) Deliver(*channels.Delivery) { c.n.Add(1) }

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting until", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestQueueFull: a send that finds the outbound queue full is served locally and
// fails with ErrQueueFull for the other instances, counted; the queue stays bounded.
func TestQueueFull(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv.URL(), redis.Config{QueueSize: 1})
	var local counter
	ch, _ := a.NewChannel(&local)
	ctx := context.Background()
	if err := a.GroupAdd(ctx, "q", ch); err != nil {
		t.Fatal(err)
	}
	const n = 20000
	full := 0
	msg := channels.Message{Data: make([]byte, 1024)}
	for range n {
		switch err := a.GroupSend(ctx, "q", msg); {
		case errors.Is(err, channels.ErrQueueFull):
			full++
		case err != nil:
			t.Fatal(err)
		}
	}
	if full == 0 {
		t.Fatal("a queue of one never filled")
	}
	if got := local.n.Load(); got != n {
		t.Fatalf("the local member got %d of %d", got, n)
	}
	if got := a.Stats().QueueFull; got != uint64(full) {
		t.Fatalf("Stats().QueueFull = %d, want %d", got, full)
	}
	t.Logf("%d of %d sends found the queue full", full, n)
}
