package wsgi

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// TestPoolsListsStartedPools: a pool is listed for metrics once it started its workers
// and until it is closed, and counts what it refused.
func TestPoolsListsStartedPools(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, Backlog: 1})
	if slices.Contains(Pools(), p) {
		t.Fatal("an unused pool is listed")
	}
	release := make(chan struct{})
	running := make(chan struct{})
	if err := p.TrySubmit(JobFunc(func() { close(running); <-release })); err != nil {
		t.Fatal(err)
	}
	<-running
	if err := p.TrySubmit(JobFunc(func() {})); err != nil {
		t.Fatal(err)
	}
	if err := p.TrySubmit(JobFunc(func() {})); !errors.Is(err, ErrPoolFull) {
		t.Fatalf("third job: %v, want ErrPoolFull", err)
	}
	if !slices.Contains(Pools(), p) {
		t.Fatal("a started pool is not listed")
	}
	if p.Workers() != 1 || p.Busy() != 1 || p.Queued() != 1 || p.Backlog() != 1 || p.Rejected() != 1 {
		t.Errorf("workers %d busy %d queued %d backlog %d rejected %d", p.Workers(), p.Busy(), p.Queued(), p.Backlog(), p.Rejected())
	}
	close(release)
	p.Close()
	if slices.Contains(Pools(), p) {
		t.Fatal("a closed pool is listed")
	}
}

// TestPoolEnterAndClose: a pool whose handlers all run on the callers' goroutines
// (enter, what asgo's server uses) is listed for metrics too; callers wait for a place
// in order, count against the backlog, and stop waiting when their context ends; Close
// waits until every admitted caller left.
func TestPoolEnterAndClose(t *testing.T) {
	p := NewPool(PoolConfig{Workers: 1, Backlog: 1})
	ctx := context.Background()
	if err := p.enter(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(Pools(), p) || p.Busy() != 1 || p.Workers() != 1 {
		t.Fatalf("listed %v, busy %d", slices.Contains(Pools(), p), p.Busy())
	}
	// A second caller waits for the place; a third finds the backlog full.
	waiting, cancel := context.WithCancel(ctx)
	second := make(chan error, 1)
	go func() { second <- p.enter(waiting) }()
	testutil.WaitFor(t, 5*time.Second, "the second caller to wait", func() bool { return p.Queued() == 1 })
	if err := p.enter(ctx); !errors.Is(err, ErrPoolFull) || p.Rejected() != 1 {
		t.Fatalf("third caller: %v, rejected %d", err, p.Rejected())
	}
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) || p.Queued() != 0 {
		t.Fatalf("cancelled caller: %v, queued %d", err, p.Queued())
	}
	// The place is still held: Close waits for its holder.
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	testutil.WaitFor(t, 5*time.Second, "Close to refuse callers", p.isClosed)
	select {
	case <-closed:
		t.Fatal("Close returned while a caller held a place")
	case <-time.After(50 * time.Millisecond):
	}
	if err := p.enter(ctx); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("caller after Close: %v", err)
	}
	p.leave()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after the last caller left")
	}
	if slices.Contains(Pools(), p) {
		t.Fatal("a closed pool is listed")
	}
}
