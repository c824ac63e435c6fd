package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// bcastApp serves WebSockets in event mode and keeps every connection's sender, so a
// test can broadcast prepared messages to them.
type bcastApp struct {
	mu      sync.Mutex
	senders []asgi.WebSocketSender
	joined  chan struct{}
	limit   int
}

// ServeASGI answers HTTP requests (a bystander's, beside the broadcasts).
func (a *bcastApp) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	if _, ok := scope.(*asgi.HTTPScope); ok {
		return respond(ctx, send, 200, "here")
	}
	return errors.New("bcastApp: WebSockets in event mode only")
}

func (a *bcastApp) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler {
	if a.limit > 0 {
		return limitedHandler{bcastHandler{a}}
	}
	return bcastHandler{a}
}

type bcastHandler struct{ a *bcastApp }

func (h bcastHandler) HandleWebSocket(msg asgi.Message, send asgi.WebSocketSender) error {
	if _, ok := msg.(*asgi.WebSocketConnect); ok {
		if err := send.SendNow(&asgi.WebSocketAccept{}); err != nil {
			return err
		}
		h.a.mu.Lock()
		h.a.senders = append(h.a.senders, send)
		h.a.mu.Unlock()
		h.a.joined <- struct{}{}
	}
	return nil
}

type limitedHandler struct{ bcastHandler }

func (h limitedHandler) MaxMessageSize() int { return h.a.limit }

// broadcast sends pm to every connection and returns each one's error.
func (a *bcastApp) broadcast(pm *asgi.PreparedMessage) []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	errs := make([]error, len(a.senders))
	for i, s := range a.senders {
		errs[i] = asgi.SendPrepared(s, pm)
	}
	return errs
}

func startBcast(t *testing.T, cfg Config, limit int) (*testServer, *bcastApp) {
	app := &bcastApp{joined: make(chan struct{}, 64), limit: limit}
	return startServer(t, cfg, app), app
}

// TestWebSocketPreparedBroadcast: a prepared 4 MiB message (larger than the socket
// buffers) reaches members with and without permessage-deflate intact, in order with
// the messages sent around it, although each connection writes the shared frame to
// its socket itself a piece at a time.
func TestWebSocketPreparedBroadcast(t *testing.T) {
	ts, app := startBcast(t, Config{}, 0)
	plain := dialWS(t, ts, "/")
	deflated := dialWS(t, ts, "/", "Sec-WebSocket-Extensions: permessage-deflate")
	<-app.joined
	<-app.joined
	payload := bytes.Repeat([]byte("broadcast "), 400<<10)
	big := asgi.NewPreparedMessage(payload, true)
	small := asgi.NewPreparedMessage([]byte("after"), true)
	start := time.Now()
	for i, err := range app.broadcast(big) {
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	// The small message is refused (backpressure) while a member's 4 MiB are unsent:
	// it is sent as an app would, retried as the member reads, beside the reads below.
	sent := make(chan error, 1)
	go func() {
		app.mu.Lock()
		senders := append([]asgi.WebSocketSender(nil), app.senders...)
		app.mu.Unlock()
		for _, s := range senders {
			err := asgi.SendPrepared(s, small)
			for deadline := time.Now().Add(10 * time.Second); errors.Is(err, asgi.ErrBackpressure) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
				err = asgi.SendPrepared(s, small)
			}
			if err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	plain.expectMessage(ws.OpText, payload)
	if err := <-sent; err != nil {
		t.Fatalf("the message after the broadcast: %v", err)
	}
	plain.expectMessage(ws.OpText, []byte("after"))
	t.Logf("4 MiB broadcast read by a member in %v", time.Since(start))
	f := deflated.read()
	if f.Header.Rsv != 4 {
		t.Fatalf("deflate member: rsv %d, want a compressed frame", f.Header.Rsv)
	}
	got, err := wsflate.DefaultHelper.Decompress(f.Payload)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("deflate member: %d bytes, %v", len(got), err)
	}
	deflated.expectMessage(ws.OpText, []byte("after"))
}

// TestWebSocketPreparedBackpressure: a member that does not read takes prepared
// messages until its unsent output would pass WriteHighWater, then refuses them with
// asgi.ErrBackpressure before queueing anything, while a reading member gets all.
func TestWebSocketPreparedBackpressure(t *testing.T) {
	ts, app := startBcast(t, Config{WriteHighWater: 256 << 10}, 0)
	idle := dialWS(t, ts, "/")
	reader := dialWS(t, ts, "/")
	<-app.joined
	<-app.joined
	_ = idle
	payload := bytes.Repeat([]byte{7}, 64<<10)
	pm := asgi.NewPreparedMessage(payload, false)
	got := make(chan int)
	const sends = 400 // 25 MiB: more than any socket buffer holds
	go func() {
		n := 0
		for range sends {
			f := reader.read()
			if !bytes.Equal(f.Payload, payload) {
				break
			}
			n++
		}
		got <- n
	}()
	refused := 0
	deadline := time.Now().Add(20 * time.Second)
	for sent := 0; sent < sends && time.Now().Before(deadline); {
		errs := app.broadcast(pm)
		if errs[0] != nil {
			if !errors.Is(errs[0], asgi.ErrBackpressure) {
				t.Fatalf("idle member: %v", errs[0])
			}
			refused++
		}
		switch {
		case errs[1] == nil:
			sent++
		case errors.Is(errs[1], asgi.ErrBackpressure):
			time.Sleep(time.Millisecond) // the reader catches up
		default:
			t.Fatalf("reading member: %v", errs[1])
		}
	}
	if n := <-got; n != sends {
		t.Fatalf("reading member got %d of %d messages", n, sends)
	}
	if refused == 0 {
		t.Fatal("the idle member never refused a message")
	}
}

// TestWebSocketHandlerMessageLimit: a handler that accepts smaller messages than the
// server (asgi.WebSocketMessageLimiter) has a larger message refused with 1009 at its
// frame header, before its payload arrives.
func TestWebSocketHandlerMessageLimit(t *testing.T) {
	ts, app := startBcast(t, Config{}, 1<<10)
	c := dialWS(t, ts, "/")
	<-app.joined
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 20, Masked: true}
	if err := ws.WriteHeader(c.c, h); err != nil {
		t.Fatal(err)
	}
	c.expectClose(1009)
}

// TestWebSocketCloseAfterPrepared: a close sent after a large prepared message goes
// out behind it, and the connection closes once both are written.
func TestWebSocketCloseAfterPrepared(t *testing.T) {
	ts, app := startBcast(t, Config{}, 0)
	c := dialWS(t, ts, "/")
	<-app.joined
	payload := bytes.Repeat([]byte{1}, 8<<20)
	if errs := app.broadcast(asgi.NewPreparedMessage(payload, false)); errs[0] != nil {
		t.Fatal(errs[0])
	}
	app.mu.Lock()
	err := app.senders[0].SendNow(&asgi.WebSocketClose{Code: 4001})
	app.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the client reads late: the frame waits queued
	c.expectMessage(ws.OpBinary, payload)
	c.expectClose(4001)
}

// TestBroadcastLeavesTheLoopFree: broadcasts to members that do not read queue frames
// to every member at once, and the loop writes them between its polls, at most
// sharedRoundBytes each time: a bystander's requests on the same loop wait for a round
// of that, not for every member's frames. The slowest of its requests while eight
// 64 KiB messages go to 250 members (gnet runs up to 256 tasks between two polls) is
// compared with a server without the bound, in the same run.
func TestBroadcastLeavesTheLoopFree(t *testing.T) {
	const members, messages = 250, 8
	slowest := func() time.Duration {
		ts, app := startBcast(t, Config{Loops: 1, WriteHighWater: 1 << 20}, 0)
		for range members {
			dialWS(t, ts, "/") // never read
			<-app.joined
		}
		c := ts.dial(t)
		br := bufio.NewReader(c)
		get := func() time.Duration {
			start := time.Now()
			if got := body(t, roundTrip(t, c, br, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")); got != "here" {
				t.Fatalf("bystander got %q", got)
			}
			return time.Since(start)
		}
		get()
		pm := asgi.NewPreparedMessage(bytes.Repeat([]byte{1}, 64<<10), false)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range messages {
				for i, err := range app.broadcast(pm) {
					if err != nil {
						t.Errorf("member %d: %v", i, err)
						return
					}
				}
			}
		}()
		worst := time.Duration(0)
		for busy := true; busy; {
			select {
			case <-done:
				busy = false
			default:
			}
			worst = max(worst, get())
		}
		return worst
	}
	median := func(bound int) time.Duration {
		saved := sharedRoundBytes
		sharedRoundBytes = bound
		defer func() { sharedRoundBytes = saved }()
		var d [3]time.Duration
		for i := range d {
			d[i] = slowest()
		}
		slices.Sort(d[:])
		return d[1]
	}
	bounded, unbounded := median(sharedRoundBytes), median(1<<62)
	t.Logf("a bystander's slowest request: %v with the bound, %v without", bounded, unbounded)
	if bounded*2 > unbounded {
		t.Errorf("a bystander's slowest request: %v with the bound, %v without: want at most half", bounded, unbounded)
	}
}
