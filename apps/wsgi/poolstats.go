package wsgi

import (
	"sync"
	"weak"
)

// The pools a process has started, for metrics (asgo's --metrics-bind reads them at
// each scrape through Workers, Busy, Queued, Backlog and Rejected: plain methods, so
// this package needs no metrics library). Pools are held weakly: a pool nobody uses
// any more is collected and drops out of the list.
var (
	livePoolsMu sync.Mutex
	livePools   []weak.Pointer[Pool] // Guarded by livePoolsMu
)

// register lists p among the live pools; it runs at p's first request.
func (p *Pool) register() {
	livePoolsMu.Lock()
	defer livePoolsMu.Unlock()
	livePools = append(livePools, weak.Make(p))
}

// Pools returns the pools of the process that were asked to run a handler and were
// not closed (nor collected). Safe for concurrent use.
func Pools() []*Pool {
	livePoolsMu.Lock()
	defer livePoolsMu.Unlock()
	var out []*Pool
	kept := livePools[:0]
	for _, w := range livePools {
		p := w.Value()
		if p == nil || p.isClosed() {
			continue
		}
		kept = append(kept, w)
		out = append(out, p)
	}
	clear(livePools[len(kept):])
	livePools = kept
	return out
}

func (p *Pool) isClosed() bool { return p.closed.Load() }

// Backlog returns how many admitted jobs may wait for a worker.
func (p *Pool) Backlog() int { return int(p.capacity) - p.workers }

// Rejected returns how many jobs and callers were refused with ErrPoolFull so far.
func (p *Pool) Rejected() uint64 { return p.rejected.Load() }
