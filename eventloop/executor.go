package eventloop

import (
	"sync"
	"time"
)

// executor runs functions on reused goroutines: a goroutine that finished a task
// waits a while for the next one instead of exiting, so its stack is warm and
// no new goroutine is created on the hot path. Safe for concurrent use.
type executor struct {
	tasks   chan func()
	idleFor time.Duration
	wg      sync.WaitGroup
}

func newExecutor() *executor {
	return &executor{tasks: make(chan func()), idleFor: 10 * time.Second}
}

// Go runs f on an idle worker, or on a new one when none is idle.
func (e *executor) Go(f func()) {
	select {
	case e.tasks <- f:
	default:
		e.wg.Add(1)
		go e.worker(f)
	}
}

func (e *executor) worker(f func()) {
	defer e.wg.Done()
	idle := time.NewTimer(e.idleFor)
	defer idle.Stop()
	for {
		f()
		idle.Reset(e.idleFor)
		select {
		case f = <-e.tasks:
		case <-idle.C:
			return
		}
	}
}
