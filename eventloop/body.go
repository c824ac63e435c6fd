package eventloop

import (
	"os"
	"sync/atomic"
)

// bodyQueue holds request-body bytes the loop has read and the app has not received
// yet. Up to memLimit bytes stay in memory, and beyond that as much as the server-wide
// budget lends; the rest is spooled to an unlinked temporary file, because gnet cannot
// pause reading a socket: without the spool a slow app would make the server hold an
// upload of any size in memory. Callers hold the connection's mutex for every method.
type bodyQueue struct {
	mem      [][]byte
	memBytes int
	// borrowed is the part of memBytes beyond memLimit, taken from budget; it is
	// always max(0, memBytes-memLimit).
	borrowed int
	budget   *memBudget
	spool    *os.File
	spoolW   int64 // bytes written to the spool
	spoolR   int64 // bytes of the spool handed to the app
}

// memBudget is the server-wide allowance of request-body bytes held in memory beyond
// the streams' own limits (Config.BodyMemoryShared). Safe for concurrent use.
type memBudget struct {
	limit int64
	used  atomic.Int64
}

// streamShare is the part of the budget one stream may borrow: a 32nd, so a single
// slow upload cannot take it all.
const streamShare = 32

// take reserves n more bytes for a stream that holds held already and reports whether
// they fit; a nil budget lends nothing.
func (m *memBudget) take(n, held int) bool {
	if m == nil || int64(held+n) > m.limit/streamShare {
		return false
	}
	if m.used.Add(int64(n)) <= m.limit {
		return true
	}
	m.used.Add(-int64(n))
	return false
}

// give returns n bytes taken before.
func (m *memBudget) give(n int) {
	if m != nil && n > 0 {
		m.used.Add(-int64(n))
	}
}

const spoolReadChunk = 64 << 10

// push copies b into the queue; bytes beyond memLimit are borrowed from budget (nil:
// none) while it lasts. The loop calls it with bytes from gnet's buffer, which die when
// the callback returns, hence the copy. memLimit and budget must not change over the
// queue's life.
func (q *bodyQueue) push(b []byte, memLimit int, budget *memBudget) error {
	if q.spool == nil {
		need := max(0, min(q.memBytes+len(b)-memLimit, len(b))) // bytes past memLimit
		if need == 0 || budget.take(need, q.borrowed) {
			q.borrowed += need
			q.budget = budget
			q.mem = append(q.mem, append([]byte(nil), b...))
			q.memBytes += len(b)
			return nil
		}
	}
	if q.spool == nil {
		f, err := os.CreateTemp("", "asgo-body-*")
		if err != nil {
			return err
		}
		_ = os.Remove(f.Name())
		q.spool = f
	}
	n, err := q.spool.WriteAt(b, q.spoolW)
	q.spoolW += int64(n)
	return err
}

// pop returns the next chunk of body bytes, or nil when the queue is empty. The chunk
// belongs to the caller.
func (q *bodyQueue) pop() ([]byte, error) {
	if len(q.mem) > 0 {
		b := q.mem[0]
		q.mem[0] = nil
		q.mem = q.mem[1:]
		q.memBytes -= len(b)
		back := min(q.borrowed, len(b))
		q.borrowed -= back
		q.budget.give(back)
		if len(q.mem) == 0 {
			q.mem = nil
		}
		return b, nil
	}
	if q.spool == nil {
		return nil, nil
	}
	n := min(q.spoolW-q.spoolR, spoolReadChunk)
	b := make([]byte, n)
	got, err := q.spool.ReadAt(b, q.spoolR)
	q.spoolR += int64(got)
	if q.spoolR == q.spoolW {
		// Caught up: drop the file so memory mode resumes.
		q.release()
	}
	return b[:got], err
}

func (q *bodyQueue) empty() bool { return len(q.mem) == 0 && q.spool == nil }

// release frees everything the queue holds.
func (q *bodyQueue) release() {
	q.budget.give(q.borrowed)
	q.mem, q.memBytes, q.borrowed = nil, 0, 0
	if q.spool != nil {
		_ = q.spool.Close()
		q.spool, q.spoolW, q.spoolR = nil, 0, 0
	}
}
