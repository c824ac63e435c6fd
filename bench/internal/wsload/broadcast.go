package wsload

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/dial"
	"github.com/asgo-dev/asgo/bench/internal/stats"

	"github.com/gobwas/ws"
)

// BroadcastConfig describes a broadcast run: Conns members of one room; the first of them
// publishes Size-byte binary messages, and the server relays each to every member (the
// publisher included, as a chat room does).
type BroadcastConfig struct {
	URL   string
	Conns int
	Size  int // payload bytes; at least 16 (sequence number and send time); if zero, 1024
	// Window is how many messages may be published and not yet received by every member;
	// if zero, 4. It keeps every server's queues short, so the figure is throughput, not
	// how much a server buffers.
	Window int
	// Warmup runs before measuring; Duration is measured. If zero, 1 s and 3 s.
	Warmup, Duration time.Duration
	Sources          int
	// Ready bounds the wait for every member to receive a first message; if zero, 60 s.
	Ready   time.Duration
	OnPhase func(phase string)
}

// BroadcastResult counts deliveries (one message received by one member) in the measured
// interval. Errors counts members whose connection failed or closed before the end.
type BroadcastResult struct {
	Delivered int64
	Published int64
	Errors    int64
	Duration  time.Duration
	Latency   stats.Histogram // publish to receive, per delivery
}

// ring is the number of sequence numbers whose receipts are counted at once; the window
// must stay far below it.
const ring = 1 << 12

type bcast struct {
	cfg      BroadcastConfig
	phase    atomic.Int32
	members  atomic.Int64 // members still connected
	ready    atomic.Int64 // members that received at least one message
	receipts [ring]atomic.Int64
	counted  atomic.Int64 // deliveries in the measured interval
	errors   atomic.Int64
	shards   [shards]shard
	start    time.Time // measurement start, for the send time carried in payloads
}

// Broadcast connects cfg.Conns members, waits until each has received a probe, then
// publishes through the first connection with a window of cfg.Window messages in flight.
func Broadcast(ctx context.Context, cfg BroadcastConfig) (*BroadcastResult, error) {
	cfg = normalizeBroadcast(cfg)
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("wsload: bad URL: %w", err)
	}
	var mu sync.Mutex
	readers := make(map[net.Conn]*bufio.Reader)
	conns, err := dial.Many(ctx, dial.Config{Addr: u.Host, Sources: cfg.Sources}, cfg.Conns,
		func(_ context.Context, c net.Conn) error {
			br, _, err := ws.Dialer{}.Upgrade(c, u)
			mu.Lock()
			readers[c] = br
			mu.Unlock()
			return err
		})
	if err != nil {
		closeAll(conns)
		return nil, fmt.Errorf("wsload: %d of %d connections: %w", len(conns), cfg.Conns, err)
	}
	b := &bcast{cfg: cfg, start: time.Now()}
	b.members.Store(int64(len(conns)))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.member(i, c, readers[c])
		}()
	}
	res, err := b.publish(conns[0])
	b.phase.Store(phaseStop)
	closeAll(conns)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	res.Delivered, res.Errors = b.counted.Load(), b.errors.Load()
	for i := range b.shards {
		res.Latency.Merge(&b.shards[i].hist)
	}
	return res, nil
}

func normalizeBroadcast(cfg BroadcastConfig) BroadcastConfig {
	cfg.Conns = max(cfg.Conns, 1)
	if cfg.Size <= 0 {
		cfg.Size = 1024
	}
	cfg.Size = max(cfg.Size, 16)
	if cfg.Window <= 0 {
		cfg.Window = 4
	}
	cfg.Window = min(cfg.Window, ring/4)
	if cfg.Warmup <= 0 {
		cfg.Warmup = time.Second
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 3 * time.Second
	}
	if cfg.Ready <= 0 {
		cfg.Ready = 60 * time.Second
	}
	if cfg.OnPhase == nil {
		cfg.OnPhase = func(string) {}
	}
	return cfg
}

// publish sends probes until every member has one, then the warm-up and measured messages.
// Sequence 0 is the probe; measured messages carry sequence numbers from 1.
func (b *bcast) publish(c net.Conn) (*BroadcastResult, error) {
	payload := make([]byte, b.cfg.Size)
	for i := 16; i < len(payload); i++ {
		payload[i] = byte('a' + i%26)
	}
	send := func(seq int64) error {
		binary.LittleEndian.PutUint64(payload[0:], uint64(seq))
		binary.LittleEndian.PutUint64(payload[8:], uint64(time.Since(b.start)))
		return writeMasked(c, payload)
	}
	deadline := time.Now().Add(b.cfg.Ready)
	for b.ready.Load() < b.members.Load() {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("wsload: %d of %d members received the probe within %v", b.ready.Load(), b.members.Load(), b.cfg.Ready)
		}
		if err := send(0); err != nil {
			return nil, fmt.Errorf("wsload: publisher: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let the last probes drain before counting
	var seq int64
	measuring := false
	var measureStart time.Time
	var published int64
	warmEnd := time.Now().Add(b.cfg.Warmup)
	for {
		now := time.Now()
		if !measuring && now.After(warmEnd) {
			measuring = true
			b.phase.Store(phaseMeasure)
			b.cfg.OnPhase("start")
			measureStart = now
		}
		if measuring && now.Sub(measureStart) >= b.cfg.Duration {
			break
		}
		seq++
		// Wait until the message Window places back is with every member still connected.
		if old := seq - int64(b.cfg.Window); old > 0 {
			slot := &b.receipts[old%ring]
			until := time.Now().Add(2 * time.Second)
			for slot.Load() < b.members.Load() && time.Now().Before(until) {
				time.Sleep(20 * time.Microsecond)
			}
		}
		b.receipts[seq%ring].Store(0)
		if err := send(seq); err != nil {
			return nil, fmt.Errorf("wsload: publisher: %w", err)
		}
		if measuring {
			published++
		}
	}
	elapsed := time.Since(measureStart)
	b.phase.Store(phaseStop)
	b.cfg.OnPhase("end")
	return &BroadcastResult{Published: published, Duration: elapsed}, nil
}

// member reads the room's messages until the run stops.
func (b *bcast) member(i int, c net.Conn, br *bufio.Reader) {
	var rd io.Reader = c
	if br != nil {
		rd = io.MultiReader(br, c)
	}
	rd = bufio.NewReaderSize(rd, max(4096, b.cfg.Size+16))
	buf := make([]byte, b.cfg.Size)
	var local stats.Histogram
	var count int64
	ready := false
	for {
		h, err := ws.ReadHeader(rd)
		if err == nil && (h.Length != int64(len(buf)) || h.OpCode != ws.OpBinary || !h.Fin) {
			err = ErrEcho
		}
		if err == nil {
			_, err = io.ReadFull(rd, buf)
		}
		p := b.phase.Load()
		if p == phaseStop {
			break
		}
		if err != nil {
			b.errors.Add(1)
			b.members.Add(-1)
			break
		}
		if !ready {
			ready = true
			b.ready.Add(1)
		}
		seq := int64(binary.LittleEndian.Uint64(buf))
		if seq == 0 {
			continue
		}
		b.receipts[seq%ring].Add(1)
		if p == phaseMeasure {
			sent := time.Duration(binary.LittleEndian.Uint64(buf[8:]))
			local.Record(time.Since(b.start) - sent)
			count++
		}
	}
	b.counted.Add(count)
	s := &b.shards[i%shards]
	s.mu.Lock()
	s.hist.Merge(&local)
	s.mu.Unlock()
}

// writeMasked writes payload as one masked binary frame (masking a copy).
func writeMasked(c net.Conn, payload []byte) error {
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: mask, Length: int64(len(payload))}
	var out writerBuf
	ws.WriteHeader(&out, h)
	start := len(out.b)
	out.b = append(out.b, payload...)
	ws.Cipher(out.b[start:], mask, 0)
	_, err := c.Write(out.b)
	return err
}
