package eventloop

import (
	"sync"
	"sync/atomic"
	"time"
)

// task is what the executor runs: a stream or connection's run method, passed as an
// interface so that handing it over allocates no closure.
type task interface{ run() }

// executor runs tasks on reused goroutines: a goroutine that finished a task
// waits a while for the next one instead of exiting, so its stack is warm and
// no new goroutine is created on the hot path. Safe for concurrent use.
type executor struct {
	tasks   chan task
	idleFor time.Duration
	wg      sync.WaitGroup
	// For Server.Stats: goroutines, and how many of them run a task now.
	workers, busy atomic.Int64
}

func newExecutor() *executor {
	return &executor{tasks: make(chan task), idleFor: 10 * time.Second}
}

// Go runs f.run on an idle worker, or on a new one when none is idle.
func (e *executor) Go(f task) {
	select {
	case e.tasks <- f:
	default:
		e.wg.Add(1)
		go e.worker(f)
	}
}

func (e *executor) worker(f task) {
	defer e.wg.Done()
	e.workers.Add(1)
	defer e.workers.Add(-1)
	idle := time.NewTimer(e.idleFor)
	defer idle.Stop()
	for {
		e.busy.Add(1)
		f.run()
		e.busy.Add(-1)
		f = nil // the task is not kept alive while the worker idles
		idle.Reset(e.idleFor)
		select {
		case f = <-e.tasks:
		case <-idle.C:
			return
		}
	}
}
