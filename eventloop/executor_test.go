package eventloop

import (
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

type funcTask func()

func (f funcTask) run() { f() }

// TestExecutorReusesAndReaps: a finished worker takes the next task; workers busy at
// once in a period are kept through the reap that ends it, and ended by the next one
// if none was needed meanwhile; a reap before idleFor passed does nothing.
func TestExecutorReusesAndReaps(t *testing.T) {
	e := newExecutor()
	start := e.lastReap
	release := make(chan struct{})
	var running sync.WaitGroup
	running.Add(3)
	for range 3 {
		e.Go(funcTask(func() { running.Done(); <-release }))
	}
	running.Wait()
	if w, b := e.workers.Load(), e.busy.Load(); w != 3 || b != 3 {
		t.Fatalf("workers %d busy %d, want 3 and 3", w, b)
	}
	close(release)
	testutil.WaitFor(t, 5*time.Second, "the workers to idle", func() bool { return e.busy.Load() == 0 })
	// An idle worker takes the next task: no fourth goroutine.
	done := make(chan struct{})
	e.Go(funcTask(func() { close(done) }))
	<-done
	testutil.WaitFor(t, 5*time.Second, "the worker to idle", func() bool { return e.busy.Load() == 0 })
	if w := e.workers.Load(); w != 3 {
		t.Fatalf("workers %d after a task for an idle one, want 3", w)
	}
	e.reap(start.Add(e.idleFor / 2)) // too early
	e.reap(start.Add(e.idleFor))     // the period's peak was 3: all were needed
	time.Sleep(20 * time.Millisecond)
	if w := e.workers.Load(); w != 3 {
		t.Fatalf("workers %d after the reap of a period that needed them all, want 3", w)
	}
	e.reap(start.Add(2 * e.idleFor)) // none was needed since
	testutil.WaitFor(t, 5*time.Second, "the idle workers to be reaped", func() bool { return e.workers.Load() == 0 })
	e.Go(funcTask(func() {})) // a new worker starts when none is left
	testutil.WaitFor(t, 5*time.Second, "a new worker", func() bool { return e.workers.Load() == 1 })
}
