package fairload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// FloodConfig says what the floods send. Zero values have the documented defaults.
type FloodConfig struct {
	// URL is the hello route, flooded on one connection with Pipeline GET requests per
	// write; the next batch is written once every response to the last has been read.
	URL string
	// EchoURL is the echo route, sent Upload-byte POST bodies one after another on a
	// second connection; each echo is read whole.
	EchoURL string
	// Pipeline is the requests per write; if zero, 10,000.
	Pipeline int
	// Upload is the bytes per upload; if zero, 64 MiB.
	Upload int64
}

// FloodResult is the floods' work between Measure and Stop.
type FloodResult struct {
	// Pipelined counts the pipelined responses read.
	Pipelined int64 `json:"pipelined"`
	// Uploads counts the uploads whose echo was read to its end.
	Uploads int64 `json:"uploads"`
	// EchoedBytes counts the echoed body bytes read.
	EchoedBytes int64 `json:"echoed_bytes"`
}

// Flood runs the two flooding connections. Start it with StartFlood, then call Measure
// and Stop.
type Flood struct {
	conns     [2]net.Conn
	errs      [2]error
	wg        sync.WaitGroup
	measuring atomic.Bool
	stopping  atomic.Bool
	pipelined atomic.Int64
	uploads   atomic.Int64
	echoed    atomic.Int64
}

// StartFlood connects the pipelining and the uploading connection and starts both.
func StartFlood(ctx context.Context, cfg FloodConfig) (*Flood, error) {
	if cfg.Pipeline <= 0 {
		cfg.Pipeline = 10000
	}
	if cfg.Upload <= 0 {
		cfg.Upload = 64 << 20
	}
	hello, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("fairload: bad URL: %w", err)
	}
	echo, err := url.Parse(cfg.EchoURL)
	if err != nil {
		return nil, fmt.Errorf("fairload: bad echo URL: %w", err)
	}
	f := &Flood{}
	for i, host := range []string{hello.Host, echo.Host} {
		if f.conns[i], err = (&net.Dialer{}).DialContext(ctx, "tcp", host); err != nil {
			f.closeConns()
			return nil, fmt.Errorf("fairload: flood: %w", err)
		}
	}
	batch := []byte(strings.Repeat("GET "+hello.RequestURI()+" HTTP/1.1\r\nHost: "+hello.Host+"\r\n\r\n", cfg.Pipeline))
	f.run(0, func(c net.Conn) error { return f.pipeline(c, batch, cfg.Pipeline) })
	f.run(1, func(c net.Conn) error { return f.upload(c, echo, cfg.Upload) })
	return f, nil
}

// run floods connection i with fn until Stop; an error before Stop is kept for it.
func (f *Flood) run(i int, fn func(net.Conn) error) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := fn(f.conns[i]); err != nil && !f.stopping.Load() {
			f.errs[i] = err
		}
	}()
}

// Measure starts counting the floods' work.
func (f *Flood) Measure() { f.measuring.Store(true) }

// Stop ends the floods and returns their work since Measure, or the first error a flood
// met before Stop.
func (f *Flood) Stop() (FloodResult, error) {
	f.measuring.Store(false)
	f.stopping.Store(true)
	f.closeConns()
	f.wg.Wait()
	for _, err := range f.errs {
		if err != nil {
			return FloodResult{}, err
		}
	}
	return FloodResult{Pipelined: f.pipelined.Load(), Uploads: f.uploads.Load(), EchoedBytes: f.echoed.Load()}, nil
}

func (f *Flood) closeConns() {
	for _, c := range f.conns {
		if c != nil {
			c.Close()
		}
	}
}

// pipeline writes batch (n requests) and reads the n responses, over and over. The write
// runs beside the reads, as a client's would, so that neither side's buffers fill up.
func (f *Flood) pipeline(c net.Conn, batch []byte, n int) error {
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		written := make(chan error, 1)
		go func() {
			_, err := c.Write(batch)
			written <- err
		}()
		for range n {
			if err := readOK(br); err != nil {
				return fmt.Errorf("fairload: pipelined flood: %w", err)
			}
			if f.measuring.Load() {
				f.pipelined.Add(1)
			}
		}
		if err := <-written; err != nil {
			return fmt.Errorf("fairload: pipelined flood: %w", err)
		}
	}
}

// upload POSTs size-byte bodies to u one after another, reading each echo while the body
// is being written.
func (f *Flood) upload(c net.Conn, u *url.URL, size int64) error {
	head := []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, size))
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	br := bufio.NewReaderSize(c, 64<<10)
	echoed := &echoCounter{f: f}
	for {
		written := make(chan error, 1)
		go func() { written <- writeBody(c, head, chunk, size) }()
		h, err := readHead(br)
		if err != nil {
			return fmt.Errorf("fairload: upload flood: %w", err)
		}
		if h.status != 200 {
			return fmt.Errorf("fairload: upload flood: %d-byte upload answered %d", size, h.status)
		}
		echoed.total = 0
		if err := h.copyBody(br, echoed); err != nil {
			return fmt.Errorf("fairload: upload flood: %w", err)
		}
		if echoed.total != size {
			return fmt.Errorf("fairload: upload flood: %d bytes echoed for %d sent", echoed.total, size)
		}
		if err := <-written; err != nil {
			return fmt.Errorf("fairload: upload flood: %w", err)
		}
		if f.measuring.Load() {
			f.uploads.Add(1)
		}
	}
}

// writeBody writes head and then size bytes taken from chunk over and over.
func writeBody(c net.Conn, head, chunk []byte, size int64) error {
	if _, err := c.Write(head); err != nil {
		return err
	}
	for size > 0 {
		n := min(size, int64(len(chunk)))
		if _, err := c.Write(chunk[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// echoCounter counts the echoed bytes it is given: all of them in total, and those read
// while the flood is measured in the flood's count.
type echoCounter struct {
	f     *Flood
	total int64
}

func (w *echoCounter) Write(p []byte) (int, error) {
	w.total += int64(len(p))
	if w.f.measuring.Load() {
		w.f.echoed.Add(int64(len(p)))
	}
	return len(p), nil
}
