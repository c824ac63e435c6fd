package wsload

import (
	"bufio"
	"context"
	"errors"
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

// ErrEcho is returned when a server answers with a different payload size or opcode.
var ErrEcho = errors.New("wsload: echo does not match the message sent")

// Config describes one run. Zero values have the documented defaults.
type Config struct {
	// URL is the ws:// address of the echo endpoint.
	URL string
	// Conns is the number of connections; if zero, 1.
	Conns int
	// Size is the payload size of each binary message; if zero, 64 bytes.
	Size int
	// Warmup runs before measuring; Duration is measured. If zero, 1 s and 3 s.
	Warmup, Duration time.Duration
	// Sources is passed to dial.Config.
	Sources int
	// OnPhase, if set, is called with "start" when measuring begins and "end" when it ends.
	OnPhase func(phase string)
}

// Result of a run: echoed messages counted only during the measured interval.
type Result struct {
	Messages int64
	Errors   int64
	Duration time.Duration
	Latency  stats.Histogram
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// shards of the latency histogram, so that thousands of goroutines rarely share a lock.
const shards = 32

type shard struct {
	mu   sync.Mutex
	hist stats.Histogram
}

type run struct {
	cfg      Config
	frame    []byte
	phase    atomic.Int32
	messages atomic.Int64
	errors   atomic.Int64
	shards   [shards]shard
}

// Run connects, runs the closed loop and returns what was measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = normalize(cfg)
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("wsload: bad URL: %w", err)
	}
	r := &run{cfg: cfg, frame: maskedFrame(cfg.Size)}
	readers := make(map[net.Conn]*bufio.Reader)
	var mu sync.Mutex
	dc := dial.Config{Addr: u.Host, Sources: cfg.Sources, TLS: dial.TLSFor(u.Scheme, "http/1.1")}
	conns, err := dial.Many(ctx, dc, cfg.Conns,
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
	return r.loop(conns, readers), nil
}

func normalize(cfg Config) Config {
	cfg.Conns = max(cfg.Conns, 1)
	if cfg.Size <= 0 {
		cfg.Size = 64
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = time.Second
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 3 * time.Second
	}
	if cfg.OnPhase == nil {
		cfg.OnPhase = func(string) {}
	}
	return cfg
}

// loop runs one goroutine per connection through warm-up, measurement and stop.
func (r *run) loop(conns []net.Conn, readers map[net.Conn]*bufio.Reader) *Result {
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.conn(i, c, readers[c])
		}()
	}
	time.Sleep(r.cfg.Warmup)
	r.phase.Store(phaseMeasure)
	r.cfg.OnPhase("start")
	start := time.Now()
	time.Sleep(r.cfg.Duration)
	r.phase.Store(phaseStop)
	elapsed := time.Since(start)
	r.cfg.OnPhase("end")
	closeAll(conns)
	wg.Wait()
	res := &Result{Messages: r.messages.Load(), Errors: r.errors.Load(), Duration: elapsed}
	for i := range r.shards {
		res.Latency.Merge(&r.shards[i].hist)
	}
	return res
}

// conn is the closed loop of one connection.
func (r *run) conn(i int, c net.Conn, br *bufio.Reader) {
	var rd io.Reader = c
	if br != nil {
		rd = io.MultiReader(br, c)
	}
	rd = bufio.NewReaderSize(rd, max(4096, r.cfg.Size+16))
	buf := make([]byte, r.cfg.Size)
	var local stats.Histogram
	var count int64
	for {
		t0 := time.Now()
		err := r.roundTrip(c, rd, buf)
		p := r.phase.Load()
		if p == phaseStop {
			break
		}
		if err != nil {
			r.errors.Add(1)
			break
		}
		if p == phaseMeasure {
			local.Record(time.Since(t0))
			count++
		}
	}
	r.messages.Add(count)
	s := &r.shards[i%shards]
	s.mu.Lock()
	s.hist.Merge(&local)
	s.mu.Unlock()
}

func (r *run) roundTrip(c net.Conn, rd io.Reader, buf []byte) error {
	if _, err := c.Write(r.frame); err != nil {
		return err
	}
	h, err := ws.ReadHeader(rd)
	if err != nil {
		return err
	}
	if h.OpCode != ws.OpBinary || h.Length != int64(len(buf)) || !h.Fin {
		return ErrEcho
	}
	_, err = io.ReadFull(rd, buf)
	return err
}

// maskedFrame returns one masked binary frame of size bytes, sent unchanged every time.
func maskedFrame(size int) []byte {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	ws.Cipher(payload, mask, 0)
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: mask, Length: int64(size)}
	var out writerBuf
	ws.WriteHeader(&out, h)
	return append(out.b, payload...)
}

type writerBuf struct{ b []byte }

func (w *writerBuf) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
}
