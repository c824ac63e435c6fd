package wsgi

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
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
	jobs     chan Job            // capacity Workers+Backlog, so a send never blocks
	places   *semaphore.Weighted // Workers places: held by each running handler, on a worker or not
	workers  int
	capacity int32        // Workers + Backlog: the most jobs admitted at once
	pending  atomic.Int32 // jobs and callers admitted and not finished (running or waiting)
	busy     atomic.Int32
	rejected atomic.Uint64 // ErrPoolFull answers (poolstats.go)
	wg       sync.WaitGroup
	started  sync.Once   // lists the pool for metrics (register) at its first request
	workOnce sync.Once   // starts the workers on the first TrySubmit
	closed   atomic.Bool // set by Close, under mu
	// drained is closed when pending falls to zero after Close: what Close waits for
	// besides the workers.
	drained     chan struct{}
	drainedOnce sync.Once
	// TrySubmit holds mu for reading around its send on jobs, Close for writing around
	// closing it.
	mu sync.RWMutex
}

// NewPool returns a pool of cfg.Workers worker goroutines, started on first use (so an
// app that is built but never serves costs no goroutines). Close stops them.
func NewPool(cfg PoolConfig) *Pool {
	cfg = cfg.Normalize()
	return &Pool{jobs: make(chan Job, cfg.Workers+cfg.Backlog), places: semaphore.NewWeighted(int64(cfg.Workers)),
		workers: cfg.Workers, capacity: int32(cfg.Workers + cfg.Backlog), drained: make(chan struct{})}
}

func (p *Pool) startWorkers() {
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
		_ = p.places.Acquire(context.Background(), 1) // fails only when its context ends
		p.run(job)
		p.places.Release(1)
	}
}

func (p *Pool) run(job Job) {
	p.busy.Add(1)
	defer p.finish()
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
	if p.closed.Load() {
		return ErrPoolClosed
	}
	p.workOnce.Do(p.startWorkers)
	if err := p.admit(); err != nil {
		return err
	}
	p.jobs <- job
	return nil
}

// admit counts one more job or caller against Workers+Backlog: ErrPoolFull when that
// many are admitted and unfinished already, ErrPoolClosed after Close. A nil answer
// must be followed by finish.
func (p *Pool) admit() error {
	p.started.Do(p.register)
	if p.pending.Add(1) > p.capacity {
		p.finish()
		p.rejected.Add(1)
		return ErrPoolFull
	}
	// Close sets closed before it reads pending, admit adds to pending before it reads
	// closed: either this caller sees the pool closed, or Close waits for it.
	if p.closed.Load() {
		p.finish()
		return ErrPoolClosed
	}
	return nil
}

// finish ends what admit counted; the last one after Close lets Close return.
func (p *Pool) finish() {
	if p.pending.Add(-1) == 0 && p.closed.Load() {
		p.drainedOnce.Do(func() { close(p.drained) })
	}
}

// enter admits a handler that runs on the calling goroutine: once it returns nil the
// caller holds a worker's place until leave. While every place is taken the caller
// waits, counted in the backlog as a queued job is, and places are given in the order
// asked for. It returns ErrPoolFull when Workers+Backlog handlers are admitted already,
// ErrPoolClosed after Close, or ctx's error when ctx ends while the caller waits.
// Close waits for the admitted callers to leave.
func (p *Pool) enter(ctx context.Context) error {
	if err := p.admit(); err != nil {
		return err
	}
	// TryAcquire first: Acquire asks ctx for its Done channel, which a server's context
	// may make on demand.
	if !p.places.TryAcquire(1) {
		if err := p.places.Acquire(ctx, 1); err != nil {
			p.finish()
			return err
		}
	}
	p.busy.Add(1)
	return nil
}

// leave gives back the place enter took.
func (p *Pool) leave() {
	p.busy.Add(-1)
	p.places.Release(1)
	p.finish()
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
	if !p.closed.Load() {
		p.closed.Store(true)
		close(p.jobs)
	}
	p.mu.Unlock()
	p.wg.Wait()
	if p.pending.Load() > 0 {
		<-p.drained
	}
}
