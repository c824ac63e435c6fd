package wsgi

import (
	"errors"
	"slices"
	"testing"
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
