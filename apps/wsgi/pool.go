package wsgi

import (
	"context"
	"sync"
	"sync/atomic"
)

// PoolConfig sizes a Pool. The zero value means the documented defaults.
type PoolConfig struct {
	// Workers is the number of worker goroutines (the CLI's --wsgi-workers). If zero,
	// 10 is used (uvicorn's WSGI middleware default).
	Workers int
	// Backlog is how many requests may wait for a free worker (--wsgi-backlog); one
	// more is refused with 503. If zero, 64 is used; negative means no waiting room.
	Backlog int
}

// Normalize returns c with its defaults filled in (Workers 10 if zero or negative,
// Backlog 64 if zero) and a negative Backlog made 0 (no waiting room), the values a
// Pool made with c uses.
func (c PoolConfig) Normalize() PoolConfig {
	if c.Workers <= 0 {
		c.Workers = 10
	}
	if c.Backlog == 0 {
		c.Backlog = 64
	}
	if c.Backlog < 0 {
		c.Backlog = 0
	}
	return c
}

// Job is a unit of work run by a Pool worker.
type Job interface {
	Run()
}

// JobFunc adapts a function to the Job interface.
type JobFunc func()

// Run calls f().
func (f JobFunc) Run() { f() }

// Pool is a fixed set of worker goroutines fed by a bounded queue. It never grows: when
// every worker is busy and the queue is full, TrySubmit refuses at once. Its methods
// are safe for concurrent use. A Pool may be shared by several adapters (WSGI-style and
// net/http ones), which then share its workers and its queue.
//
// A handler may also run on the goroutine that asks for it (enter and leave, which the
// App uses when the server lets a call end before its goroutine returns): it then takes
// a worker's place for as long as it runs, so at most Workers handlers run at once
// either way, and the same Backlog bounds those waiting for a place.
type Pool struct {
	jobs     chan Job      // capacity Workers+Backlog, so a send never blocks
	places   chan struct{} // capacity Workers: held by each running handler, on a worker or not
	workers  int
	capacity int32        // Workers + Backlog: the most jobs admitted at once
	pending  atomic.Int32 // jobs admitted and not finished (running or queued)
	busy     atomic.Int32
	rejected atomic.Uint64 // TrySubmit's ErrPoolFull answers (poolstats.go)
	wg       sync.WaitGroup
	once     sync.Once // starts the workers on the first TrySubmit
	// Guarded by mu: closed. TrySubmit holds mu for reading, Close for writing.
	mu     sync.RWMutex
	closed bool
}

// NewPool returns a pool of cfg.Workers worker goroutines, started on first use (so an
// app that is built but never serves costs no goroutines). Close stops them.
func NewPool(cfg PoolConfig) *Pool {
	cfg = cfg.Normalize()
	return &Pool{jobs: make(chan Job, cfg.Workers+cfg.Backlog), places: make(chan struct{}, cfg.Workers),
		workers: cfg.Workers, capacity: int32(cfg.Workers + cfg.Backlog)}
}

func (p *Pool) startWorkers() {
	p.register()
	p.wg.Add(p.workers)
	for range p.workers {
		go p.work()
	}
}

// work runs jobs until the queue is closed. Jobs recover their own panics; a job that
// panics anyway does not take the worker down.
func (p *Pool) work() {
	defer p.wg.Done()
	for job := range p.jobs {
		p.places <- struct{}{}
		p.run(job)
		<-p.places
	}
}

func (p *Pool) run(job Job) {
	p.busy.Add(1)
	defer p.pending.Add(-1)
	defer p.busy.Add(-1)
	defer func() { _ = recover() }()
	job.Run()
}

// TrySubmit queues job for a worker without waiting. Admission is counted, not left to
// the scheduler: while Workers+Backlog jobs are admitted and unfinished, it returns
// ErrPoolFull; after Close it returns ErrPoolClosed. Idle workers take queued jobs in
// order.
func (p *Pool) TrySubmit(job Job) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrPoolClosed
	}
	p.once.Do(p.startWorkers)
	if p.pending.Add(1) > p.capacity {
		p.pending.Add(-1)
		p.rejected.Add(1)
		return ErrPoolFull
	}
	p.jobs <- job
	return nil
}

// enter admits a handler that runs on the calling goroutine: once it returns nil the
// caller holds a worker's place until leave. While every place is taken the caller
// waits, counted in the backlog as a queued job is. It returns ErrPoolFull when
// Workers+Backlog handlers are admitted already, ErrPoolClosed after Close, or ctx's
// error when ctx ends while the caller waits. Close waits for the admitted callers.
func (p *Pool) enter(ctx context.Context) error {
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrPoolClosed
	}
	p.wg.Add(1) // under mu: Close waits for it
	p.mu.RUnlock()
	if p.pending.Add(1) > p.capacity {
		p.pending.Add(-1)
		p.rejected.Add(1)
		p.wg.Done()
		return ErrPoolFull
	}
	select {
	case p.places <- struct{}{}:
	default:
		select {
		case p.places <- struct{}{}:
		case <-ctx.Done():
			p.pending.Add(-1)
			p.wg.Done()
			return ctx.Err()
		}
	}
	p.busy.Add(1)
	return nil
}

// leave gives back the place enter took.
func (p *Pool) leave() {
	p.busy.Add(-1)
	<-p.places
	p.pending.Add(-1)
	p.wg.Done()
}

// Workers returns the number of worker goroutines.
func (p *Pool) Workers() int { return p.workers }

// Busy returns how many workers are running a job now.
func (p *Pool) Busy() int { return int(p.busy.Load()) }

// Queued returns how many admitted jobs wait for a worker now.
func (p *Pool) Queued() int { return max(0, int(p.pending.Load()-p.busy.Load())) }

// Close stops accepting jobs, lets the workers finish the queued ones, and waits for
// them to exit and for the handlers admitted by enter to leave.
func (p *Pool) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
