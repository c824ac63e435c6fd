package eventloop

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// accessWriter queues access-log lines for one goroutine that writes them out: Write
// copies a line into a bounded queue and returns at once, so a slow disk never blocks a
// loop. When the queue is full, lines are dropped and counted; the count is logged at
// most once per second.
type accessWriter struct {
	out   io.Writer
	log   *slog.Logger
	limit int

	mu      sync.Mutex
	queue   []byte
	dropped int64
	closed  bool

	droppedTotal atomic.Int64 // every line dropped, for Server.Stats

	wake   chan struct{} // capacity 1: the queue has lines, or closed
	exited chan struct{}
}

func newAccessWriter(out io.Writer, limit int, log *slog.Logger) *accessWriter {
	w := &accessWriter{out: out, log: log, limit: limit, wake: make(chan struct{}, 1), exited: make(chan struct{})}
	go w.run()
	return w
}

// Write queues line and a newline, or drops it if the queue is full. It never blocks
// on the output.
func (w *accessWriter) Write(line []byte) {
	w.mu.Lock()
	if w.closed || len(w.queue)+len(line)+1 > w.limit {
		if !w.closed {
			w.dropped++
			w.droppedTotal.Add(1)
		}
		w.mu.Unlock()
		return
	}
	w.queue = append(w.queue, line...)
	w.queue = append(w.queue, '\n')
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run writes the queued lines until Close.
func (w *accessWriter) run() {
	defer close(w.exited)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var spare []byte
	var drops int64
	var lastReport time.Time
	for {
		select {
		case <-w.wake:
		case <-tick.C:
		}
		w.mu.Lock()
		batch := w.queue
		w.queue = spare[:0]
		dropped := w.dropped
		w.dropped = 0
		closed := w.closed
		w.mu.Unlock()
		if len(batch) > 0 {
			if _, err := w.out.Write(batch); err != nil {
				w.log.Error("access log: write failed", "err", err)
			}
		}
		if cap(batch) > 4*w.limit { // at most limit plus a line, but do not keep a huge one
			batch = nil
		}
		spare = batch
		drops += dropped
		if drops > 0 && (closed || time.Since(lastReport) >= time.Second) {
			w.log.Warn("access log: dropped " + strconv.FormatInt(drops, 10) + " lines")
			drops, lastReport = 0, time.Now()
		}
		if closed {
			w.mu.Lock()
			empty := len(w.queue) == 0
			w.mu.Unlock()
			if empty {
				return
			}
		}
	}
}

// Close writes what is queued (waiting at most timeout) and stops the writer; later
// lines are discarded.
func (w *accessWriter) Close(timeout time.Duration) {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.exited:
	case <-time.After(timeout):
	}
}

// reopenFile is an access-log file that Reopen opens again by name, for logrotate.
type reopenFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openReopenFile(path string) (*reopenFile, error) {
	f, err := openLogFile(path)
	if err != nil {
		return nil, err
	}
	return &reopenFile{path: path, f: f}, nil
}

func openLogFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
}

func (r *reopenFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Write(p)
}

// Reopen opens the path again and writes there from now on; the old file is closed.
func (r *reopenFile) Reopen() error {
	f, err := openLogFile(r.path)
	if err != nil {
		return err
	}
	r.mu.Lock()
	old := r.f
	r.f = f
	r.mu.Unlock()
	return old.Close()
}

func (r *reopenFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
