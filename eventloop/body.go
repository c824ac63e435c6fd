package eventloop

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// bodyQueue holds request-body bytes the loop has read and the app has not received
// yet. Up to memLimit bytes stay in memory, and beyond that as much as the server-wide
// budget lends; the rest is spooled to an unlinked temporary file, because gnet cannot
// pause reading a socket: without the spool a slow app would make the server hold an
// upload of any size in memory. Callers hold the connection's mutex for every method.
type bodyQueue struct {
	// mem holds the bytes kept in memory, in buffers appended to while they have room,
	// so a body that arrives faster than the app receives it is handed over in a few
	// large chunks instead of one per read. mem[0][:head] was handed to the app
	// already (the app's chunks are capped: appending never reaches them).
	mem      [][]byte
	first    [1][]byte // mem's first backing array: a body in one buffer costs no slice
	head     int
	memBytes int // bytes in mem not handed to the app
	// borrowed is the part of memBytes beyond memLimit, taken from budget; it is
	// always max(0, memBytes-memLimit).
	borrowed int
	// pushed counts every byte pushed; length is the body's declared length (0 if
	// unknown). Both size new buffers (appendMem).
	pushed, length int64
	budget         *memBudget
	spool          *os.File
	spoolW         int64 // bytes written to the spool: the file's size
	spoolR         int64 // bytes of the spool handed to the app
	// spoolLimit caps spoolW (Config.BodySpoolBytes; zero or negative: no limit) and
	// disk is the server-wide spool budget spoolW is taken from (nil: none). Set
	// before the first push, then fixed.
	spoolLimit int64
	disk       *diskBudget
	// pooled: memory buffers of bodyBufs' sizes come from that pool, up to
	// maxPooledBody bytes, and owned lists them until recycle gives them back, once the
	// app has promised to keep no chunk (asgi.BodyRecycler) and its call returned. Set
	// before the first push, then fixed.
	pooled     bool
	owned      [][]byte
	ownedBytes int // the capacity of owned's buffers
	// reusable: the body is an inline call's of an app that keeps nothing of such calls
	// (asgi.Recycler), so firstBuf remembers the first memory buffer and keepSpare makes
	// it the spare of the recycled stream's next body: the room that body's first
	// buffer takes when it fits. Set before the first push, then fixed.
	reusable bool
	firstBuf []byte
	spare    []byte
}

// diskBudget is the server-wide allowance of request-body bytes spooled to disk
// (Config.BodySpoolShared); a zero or negative limit means none. Safe for concurrent
// use.
type diskBudget struct {
	limit int64
	used  atomic.Int64
}

// take reserves n bytes and reports whether they fit; a nil budget always fits.
func (d *diskBudget) take(n int64) bool {
	if d == nil || d.limit <= 0 {
		return true
	}
	if d.used.Add(n) <= d.limit {
		return true
	}
	d.used.Add(-n)
	return false
}

// give returns n bytes taken before.
func (d *diskBudget) give(n int64) {
	if d != nil && d.limit > 0 && n > 0 {
		d.used.Add(-n)
	}
}

// Errors from bodyQueue.push when a body cannot be spooled. Each refuses the request
// (its response, or the connection if the response started): the server reads no more
// of that body.
var (
	// errSpoolQuota: the request's spool would exceed Config.BodySpoolBytes (413).
	errSpoolQuota = errors.New("eventloop: request body beyond the per-request spool quota")
	// errSpoolFull: the server-wide spool (Config.BodySpoolShared) is used up (503).
	errSpoolFull = errors.New("eventloop: server-wide request-body spool quota used up")
)

// spoolError wraps a failure of the temporary file itself (creating or writing it:
// directory full or unusable) (503).
type spoolError struct{ err error }

func (e *spoolError) Error() string {
	return fmt.Sprintf("eventloop: spooling request body: %v", e.err)
}
func (e *spoolError) Unwrap() error { return e.err }

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
	q.pushed += int64(len(b))
	if q.spool == nil {
		need := max(0, min(q.memBytes+len(b)-memLimit, len(b))) // bytes past memLimit
		if need == 0 || budget.take(need, q.borrowed) {
			q.borrowed += need
			q.budget = budget
			q.appendMem(b)
			q.memBytes += len(b)
			return nil
		}
	}
	return q.spoolBytes(b)
}

// maxBodyBuffer bounds the room a new memory buffer reserves beyond the bytes at hand.
const maxBodyBuffer = 4 << 20

// appendMem copies b into the last memory buffer, or into a new one with room for as
// many bytes again as the body has brought so far (at most the rest of its declared
// length): buffers grow geometrically, and the room reserved never exceeds the bytes
// received, whatever length a client declares.
func (q *bodyQueue) appendMem(b []byte) {
	if k := len(q.mem); k > 0 && cap(q.mem[k-1])-len(q.mem[k-1]) >= len(b) {
		q.mem[k-1] = append(q.mem[k-1], b...)
		return
	}
	if cap(q.spare) >= len(b) {
		q.addBuf(append(q.spare, b...))
		q.spare = nil
		return
	}
	room := min(q.pushed-int64(len(b)), maxBodyBuffer)
	if q.pooling() {
		room = min(q.pushed, maxBodyBuffer) // b's bytes count too: pooled room costs no zeroing
	}
	if q.length > 0 {
		room = min(room, q.length-q.pushed)
	}
	if room <= 0 {
		q.addBuf(append([]byte(nil), b...)) // not zeroed first, unlike make
		return
	}
	q.addBuf(append(q.newBuf(len(b), len(b)+int(room)), b...))
}

// maxPooledBody bounds the pooled memory one body takes. Its buffers stay in owned
// until the call returns, even those the app has consumed and dropped, so a long upload
// streamed through the app takes fresh memory past it, which the GC reclaims as the app
// drops its chunks: memory stays flat. A 1 MiB body fits whole.
const maxPooledBody = 2 << 20

// pooling reports whether new memory buffers may still come from the pool.
func (q *bodyQueue) pooling() bool { return q.pooled && q.ownedBytes < maxPooledBody }

// newBuf returns an empty memory buffer with room for at least least and at most most
// bytes: from the pool when the queue is pooling and a class fits within maxPooledBody,
// else of most bytes.
func (q *bodyQueue) newBuf(least, most int) []byte {
	if q.pooling() {
		if b, ok := bodyBufs.getWithin(least, min(most, maxPooledBody-q.ownedBytes)); ok {
			q.owned = append(q.owned, b)
			q.ownedBytes += cap(b)
			return b
		}
	}
	return make([]byte, 0, most)
}

// maxSpareBody bounds the spare buffer a recycled stream keeps: inline bodies are at
// most maxInlineBody.
const maxSpareBody = maxInlineBody

// keepSpare readies the released queue of a recycled stream for its next body: the
// first memory buffer, which the app's inline call no longer holds, becomes the spare.
func (q *bodyQueue) keepSpare() {
	if q.firstBuf != nil && cap(q.firstBuf) <= maxSpareBody {
		q.spare = q.firstBuf[:0]
	}
	q.firstBuf = nil
}

// recycle releases the queue and gives its pooled buffers back for other bodies. The
// caller guarantees that nobody holds a chunk of them any more: the app promised
// (asgi.BodyRecycler) and its call returned.
func (q *bodyQueue) recycle() {
	if q == nil {
		return
	}
	q.release()
	for i, b := range q.owned {
		bodyBufs.put(b)
		q.owned[i] = nil
	}
	q.owned, q.ownedBytes = q.owned[:0], 0
}

// addBuf appends buf to mem.
func (q *bodyQueue) addBuf(buf []byte) {
	if q.mem == nil {
		q.mem = q.first[:0]
	}
	q.mem = append(q.mem, buf)
	if q.reusable && q.firstBuf == nil {
		q.firstBuf = buf
	}
	if len(q.mem) > 1 {
		// mem has left first's array (it holds one): first's stale copy of the buffer
		// must not keep it alive after pop hands it over.
		q.first[0] = nil
	}
}

// spoolBytes appends b to the spool file within the request's and the server's spool
// quotas. On an error nothing more may be pushed: the caller refuses the body.
func (q *bodyQueue) spoolBytes(b []byte) error {
	n := int64(len(b))
	if q.spoolLimit > 0 && q.spoolW+n > q.spoolLimit {
		return errSpoolQuota
	}
	if !q.disk.take(n) {
		return errSpoolFull
	}
	if q.spool == nil {
		f, err := os.CreateTemp("", "asgo-body-*")
		if err != nil {
			q.disk.give(n)
			return &spoolError{err}
		}
		_ = os.Remove(f.Name())
		q.spool = f
	}
	w, err := q.spool.WriteAt(b, q.spoolW)
	q.spoolW += int64(w)
	if err != nil {
		q.disk.give(n - int64(w))
		return &spoolError{err}
	}
	return nil
}

// pop returns the body bytes of the next memory buffer not yet handed over, or the next
// chunk of the spool; nil when the queue is empty. The chunk belongs to the caller.
func (q *bodyQueue) pop() ([]byte, error) {
	if q == nil {
		return nil, nil
	}
	if q.memBytes > 0 {
		for q.head == len(q.mem[0]) { // handed over whole (or empty); a later one has the bytes
			q.mem[0] = nil
			q.mem, q.head = q.mem[1:], 0
		}
		buf := q.mem[0]
		b := buf[q.head:len(buf):len(buf)]
		if len(q.mem) == 1 && cap(buf) > len(buf) {
			q.head = len(buf) // more bytes may still be appended to it
		} else {
			q.mem[0] = nil
			q.mem, q.head = q.mem[1:], 0
		}
		if len(q.mem) == 0 {
			q.mem = nil
		}
		q.memBytes -= len(b)
		back := min(q.borrowed, len(b))
		q.borrowed -= back
		q.budget.give(back)
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

// readFrom reads up to want body bytes from the socket fd straight into the queue's
// memory (rawRead), instead of their being copied in by push from gnet's buffer: into
// the last buffer's spare room, or a new buffer sized as appendMem sizes them. It
// returns the bytes read; none while the queue spools. Bytes past memLimit are borrowed
// from budget as push borrows them; without the loan, want shrinks to what fits.
func (q *bodyQueue) readFrom(fd, want, memLimit int, budget *memBudget) int {
	if q.spool != nil {
		return 0
	}
	need := max(0, min(q.memBytes+want-memLimit, want)) // bytes past memLimit
	if need > 0 && !budget.take(need, q.borrowed) {
		want -= need
		need = 0
	}
	if want <= 0 {
		return 0
	}
	n := q.readInto(fd, want)
	used := max(0, min(q.memBytes-memLimit, n)) // of the n bytes read, those past memLimit
	budget.give(need - used)
	if used > 0 {
		q.borrowed += used
		q.budget = budget
	}
	return n
}

// readInto is readFrom's read: it reads until want bytes came or the socket has no
// more, into the last buffer's room and then into new buffers, each as large as the body
// so far (twice that while pooling; at most the rest of its declared length and
// maxBodyBuffer), so fresh room reserved never exceeds twice the bytes received.
func (q *bodyQueue) readInto(fd, want int) int {
	total := 0
	for want > 0 {
		k := len(q.mem)
		if k == 0 || cap(q.mem[k-1]) == len(q.mem[k-1]) {
			size := min(int64(want), q.pushed, maxBodyBuffer)
			if q.pooling() {
				// Pooled room costs no zeroing, and reads stop at want anyway: room for
				// the body so far again, so the class below it is not a size too small.
				size = min(2*q.pushed, maxBodyBuffer)
			}
			if q.length > 0 {
				size = min(size, q.length-q.pushed)
			}
			if size <= 0 {
				break
			}
			q.addBuf(q.newBuf(1, int(size)))
			k++
		}
		last := q.mem[k-1]
		room := last[len(last):min(cap(last), len(last)+want)]
		n := rawRead(fd, room)
		q.mem[k-1] = last[:len(last)+n]
		q.pushed += int64(n)
		q.memBytes += n
		total += n
		want -= n
		if n < len(room) {
			break // the socket is drained; a fresh buffer stays for the next push or read
		}
	}
	return total
}

// nextLen is the length of the chunk pop would return from memory (0 when the memory
// holds none).
func (q *bodyQueue) nextLen() int {
	if q.memBytes == 0 {
		return 0
	}
	i, head := 0, q.head
	for head == len(q.mem[i]) {
		i, head = i+1, 0
	}
	return len(q.mem[i]) - head
}

func (q *bodyQueue) empty() bool { return q == nil || q.memBytes == 0 && q.spool == nil }

// release frees everything the queue holds.
func (q *bodyQueue) release() {
	if q == nil {
		return
	}
	q.budget.give(q.borrowed)
	clear(q.mem)
	q.mem, q.head, q.memBytes, q.borrowed = nil, 0, 0, 0
	if q.spool != nil {
		_ = q.spool.Close()
		q.disk.give(q.spoolW)
		q.spool, q.spoolW, q.spoolR = nil, 0, 0
	}
}
