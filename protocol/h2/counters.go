package h2

import "sync/atomic"

// Counters counts the frames of a Conn that say a stream or a connection ended early,
// for a host's metrics. A host may give many Conns the same Counters (for example one
// per event loop); the fields are atomic, so they may be read from any goroutine while
// the Conns run.
type Counters struct {
	ResetsSent      atomic.Uint64 // RST_STREAM frames written
	ResetsReceived  atomic.Uint64 // RST_STREAM frames from the peer for a known stream
	GoAwaysSent     atomic.Uint64 // GOAWAY frames written
	GoAwaysReceived atomic.Uint64 // GOAWAY frames from the peer
	HeadersTooLarge atomic.Uint64 // requests answered 431 (MaxHeaderListSize)
}

// SetCounters makes c count into k (nil: count nothing, the default). Call it before
// Start, under the same serialisation as every other method.
func (c *Conn) SetCounters(k *Counters) { c.counters = k }

// writeRST writes RST_STREAM and counts it.
func (c *Conn) writeRST(id uint32, code ErrCode) {
	c.fr.WriteRSTStream(id, code)
	if c.counters != nil {
		c.counters.ResetsSent.Add(1)
	}
}

// writeGoAway writes GOAWAY and counts it.
func (c *Conn) writeGoAway(code ErrCode, debug []byte) {
	c.fr.WriteGoAway(c.maxClient, code, debug)
	if c.counters != nil {
		c.counters.GoAwaysSent.Add(1)
	}
}

func (c *Conn) countResetReceived() {
	if c.counters != nil {
		c.counters.ResetsReceived.Add(1)
	}
}

func (c *Conn) countGoAwayReceived() {
	if c.counters != nil {
		c.counters.GoAwaysReceived.Add(1)
	}
}

func (c *Conn) countHeadersTooLarge() {
	if c.counters != nil {
		c.counters.HeadersTooLarge.Add(1)
	}
}
