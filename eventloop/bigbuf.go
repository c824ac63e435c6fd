package eventloop

import "sync"

// Large output buffers: a response body of more than maxSpareCap is encoded into a
// buffer of one of these size classes (128 KiB to 8 MiB), taken from a pool shared by
// the loops and the app goroutines (sync.Pool: safe for concurrent use, emptied by the
// GC when idle), instead of growing the pending output by append and dropping it after
// the flush: a 1 MiB echo otherwise allocated, page-faulted and freed about 2 MiB per
// request.
const (
	minLargeBuf   = 128 << 10
	largeBufClass = 7 // 128 KiB << 0..6: up to 8 MiB
)

var largeBufs [largeBufClass]sync.Pool

// largeClass returns the class whose size is at least n, or -1 when n is too large.
func largeClass(n int) int {
	size := minLargeBuf
	for i := range largeBufClass {
		if n <= size {
			return i
		}
		size <<= 1
	}
	return -1
}

// getLargeBuf returns an empty buffer with room for n bytes.
func getLargeBuf(n int) []byte {
	i := largeClass(n)
	if i < 0 {
		return make([]byte, 0, n)
	}
	if p, ok := largeBufs[i].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, minLargeBuf<<i)
}

// putLargeBuf keeps b for reuse if its capacity is one of the classes.
func putLargeBuf(b []byte) {
	i := largeClass(cap(b))
	if i < 0 || cap(b) != minLargeBuf<<i {
		return
	}
	b = b[:0]
	largeBufs[i].Put(&b)
}

// growForBody makes room in c's pending output for a body of n bytes and its framing,
// moving it into a large buffer when it would grow past maxSpareCap. c.mu must be held.
func (c *conn) growForBody(n int) {
	need := len(c.pending) + n + 32 // chunk size line and CRLFs
	if need <= cap(c.pending) || need <= maxSpareCap {
		return
	}
	b := append(getLargeBuf(need), c.pending...)
	if cap(c.pending) > maxSpareCap {
		putLargeBuf(c.pending)
	}
	c.pending = b
}
