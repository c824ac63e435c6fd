package h1

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// dateLen is the length of an IMF-fixdate ("Mon, 02 Jan 2006 15:04:05 GMT").
const dateLen = 29

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// dateCache holds the formatted Date of the current second, shared by every loop. It is
// a seqlock over atomic words, so readers never allocate, never block and never race.
type dateCache struct {
	mu    sync.Mutex    // serialises writers
	seq   atomic.Uint64 // odd while a writer updates
	sec   atomic.Int64  // Unix second the words hold
	words [4]atomic.Uint64
}

var date dateCache

// appendDate appends the current IMF-fixdate to dst.
func appendDate(dst []byte) []byte { return appendDateAt(dst, time.Now()) }

// appendDateAt appends the IMF-fixdate of now to dst.
func appendDateAt(dst []byte, now time.Time) []byte {
	sec := now.Unix()
	if b, ok := date.load(sec); ok {
		return append(dst, b[:dateLen]...)
	}
	date.store(now)
	return now.UTC().AppendFormat(dst, timeFormat)
}

// load returns the cached date if it is for sec and was read consistently.
func (c *dateCache) load(sec int64) (b [32]byte, ok bool) {
	s := c.seq.Load()
	if s&1 != 0 || c.sec.Load() != sec {
		return b, false
	}
	for i := range c.words {
		binary.LittleEndian.PutUint64(b[i*8:], c.words[i].Load())
	}
	return b, c.seq.Load() == s
}

// store caches the date of now unless another writer is busy or already did.
func (c *dateCache) store(now time.Time) {
	if !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	if c.sec.Load() == now.Unix() {
		return
	}
	var buf [32]byte
	now.UTC().AppendFormat(buf[:0], timeFormat)
	c.seq.Add(1)
	for i := range c.words {
		c.words[i].Store(binary.LittleEndian.Uint64(buf[i*8:]))
	}
	c.sec.Store(now.Unix())
	c.seq.Add(1)
}
