package fairload

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/stats"
)

// Phases of a bystander, in order. A round trip is attributed to the phase it started in.
const (
	phaseAlone int32 = iota // measured: no flood
	phaseWarm               // floods starting and warming up: not measured
	phaseFlood              // measured: under the floods
	phaseStop
)

// Bystander times sequential GET round trips on one keep-alive connection. Start it with
// StartBystander, then call EndAlone, StartFlood and Stop in that order.
type Bystander struct {
	conn  net.Conn
	br    *bufio.Reader
	req   []byte
	phase atomic.Int32
	// ends holds when each phase ended (Unix ns): a round trip still waiting then is
	// recorded with the time it had waited, so that a server that stalls the bystander
	// for a whole phase still shows in its latencies.
	ends    [phaseStop]atomic.Int64
	lat     [phaseStop]stats.Histogram // written by the loop only, read after done
	done    chan struct{}
	loopErr error
}

// StartBystander connects to rawURL (http://host:port/path) and starts its round trips in
// the alone phase.
func StartBystander(ctx context.Context, rawURL string) (*Bystander, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fairload: bad URL: %w", err)
	}
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("fairload: bystander: %w", err)
	}
	b := &Bystander{conn: c, br: bufio.NewReader(c), done: make(chan struct{}),
		req: []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n")}
	go b.loop()
	return b, nil
}

func (b *Bystander) loop() {
	defer close(b.done)
	for {
		p := b.phase.Load()
		if p == phaseStop {
			return
		}
		t0 := time.Now()
		err := b.roundTrip()
		t1 := time.Now()
		if end := b.ends[p].Load(); end != 0 && t1.UnixNano() > end {
			t1 = time.Unix(0, end)
		}
		if p != phaseWarm && t1.After(t0) {
			b.lat[p].Record(t1.Sub(t0))
		}
		if err != nil {
			if b.phase.Load() != phaseStop {
				b.loopErr = fmt.Errorf("fairload: bystander: %w", err)
			}
			return
		}
	}
}

func (b *Bystander) roundTrip() error {
	if _, err := b.conn.Write(b.req); err != nil {
		return err
	}
	return readOK(b.br)
}

// next ends the current phase and starts the following one.
func (b *Bystander) next() {
	p := b.phase.Load()
	b.ends[p].Store(time.Now().UnixNano())
	b.phase.Store(p + 1)
}

// EndAlone ends the alone phase: the floods start next.
func (b *Bystander) EndAlone() { b.next() }

// StartFlood starts the measured phase under the floods.
func (b *Bystander) StartFlood() { b.next() }

// Stop ends the flood phase, closes the connection and returns the round trips alone and
// under the floods, or the error that ended the round trips early.
func (b *Bystander) Stop() (alone, flood *stats.Histogram, err error) {
	b.next()
	b.conn.Close()
	<-b.done
	if b.loopErr != nil {
		return nil, nil, b.loopErr
	}
	return &b.lat[phaseAlone], &b.lat[phaseFlood], nil
}
