package eventloop

import "sync"

// Large buffers are taken from pools of power-of-two size classes shared by the loops
// and the app goroutines (sync.Pool: safe for concurrent use, emptied by the GC when
// idle) instead of being allocated per request: a fresh large buffer costs its
// zeroing, the page faults of memory the runtime returned to the OS, and the GC's
// work, and a 1 MiB echo otherwise allocated and dropped about 2 MiB per request.
//   - largeBufs: a response body of more than maxSpareCap is encoded into one (128 KiB
//     to 8 MiB) rather than growing the pending output by append.
//   - bodyBufs: request-body memory (bodyQueue), 64 KiB to 4 MiB, when the app gives
//     the chunks back (asgi.BodyRecycler).
var (
	largeBufs = bufClasses{min: 128 << 10}
	bodyBufs  = bufClasses{min: 64 << 10}
)

// bufClasses is a pool of buffers of sizes min<<0 .. min<<(numBufClasses-1).
type bufClasses struct {
	min   int
	pools [numBufClasses]sync.Pool
}

const numBufClasses = 7

// class returns the smallest class whose size is at least n, or -1 when n is too large.
func (p *bufClasses) class(n int) int {
	size := p.min
	for i := range numBufClasses {
		if n <= size {
			return i
		}
		size <<= 1
	}
	return -1
}

// get returns an empty buffer with room for n bytes: of the smallest class that has
// it, or exactly n when n is beyond the classes.
func (p *bufClasses) get(n int) []byte {
	i := p.class(n)
	if i < 0 {
		return make([]byte, 0, n)
	}
	return p.take(i)
}

// getWithin returns an empty buffer of the largest class between least and most
// bytes, and false when no class lies between them.
func (p *bufClasses) getWithin(least, most int) ([]byte, bool) {
	i := p.class(most)
	if i < 0 {
		i = numBufClasses - 1
	} else if p.min<<i > most {
		i--
	}
	if i < 0 || p.min<<i < least {
		return nil, false
	}
	return p.take(i), true
}

func (p *bufClasses) take(i int) []byte {
	if b, ok := p.pools[i].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, p.min<<i)
}

// put keeps b for reuse if its capacity is one of the classes. The caller must hold no
// other reference to b's array.
func (p *bufClasses) put(b []byte) {
	i := p.class(cap(b))
	if i < 0 || cap(b) != p.min<<i {
		return
	}
	b = b[:0]
	p.pools[i].Put(&b)
}

// getLargeBuf returns an empty output buffer with room for n bytes.
func getLargeBuf(n int) []byte { return largeBufs.get(n) }

// putLargeBuf keeps an output buffer for reuse (bufClasses.put).
func putLargeBuf(b []byte) { largeBufs.put(b) }

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
