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
// waits for the next one instead of exiting, so its stack is warm and no new goroutine
// is created on the hot path. Workers that were not needed for idleFor are ended by
// reap, which the loops' ticks call, so that waiting for a task is a plain channel
// receive (no timer per task). Safe for concurrent use.
type executor struct {
	tasks   chan task // a nil task ends the worker that receives it (reap)
	idleFor time.Duration
	wg      sync.WaitGroup
	// For Server.Stats: goroutines, and how many of them run a task now.
	workers, busy atomic.Int64
	// peakBusy is the most tasks run at once since the last reap: the workers above
	// it had nothing to do all that time.
	peakBusy atomic.Int64
	reapMu   sync.Mutex
	lastReap time.Time // guarded by reapMu
}

func newExecutor() *executor {
	return &executor{tasks: make(chan task), idleFor: 10 * time.Second, lastReap: time.Now()}
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
	for f != nil {
		if b := e.busy.Add(1); b > e.peakBusy.Load() {
			e.raisePeak(b)
		}
		f.run()
		e.busy.Add(-1)
		f = <-e.tasks // the finished task is dead meanwhile: the worker does not keep it
	}
}

func (e *executor) raisePeak(b int64) {
	for p := e.peakBusy.Load(); b > p && !e.peakBusy.CompareAndSwap(p, b); p = e.peakBusy.Load() {
	}
}

// reap ends, once per idleFor, as many idle workers as were never needed since the
// previous time (workers beyond the peak of busy ones): a worker idle that long exits
// after idleFor to twice that. Cheap to call often: the loops call it on every tick.
func (e *executor) reap(now time.Time) {
	if !e.reapMu.TryLock() {
		return
	}
	defer e.reapMu.Unlock()
	if now.Sub(e.lastReap) < e.idleFor {
		return
	}
	e.lastReap = now
	for spare := e.workers.Load() - e.peakBusy.Swap(e.busy.Load()); spare > 0; spare-- {
		select {
		case e.tasks <- nil: // taken by an idle worker only: the channel is unbuffered
		default:
			return
		}
	}
}
