package eventloop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// TestStatsCountingAllocs guards the hot path: counting a request, a WebSocket
// message, a rejection, a connection and a tick allocates nothing, with and without
// counters (nil loopStats).
func TestStatsCountingAllocs(t *testing.T) {
	started := time.Now()
	var h1, h2s session = &h1Session{}, &h2Session{}
	for _, ls := range []*loopStats{new(loopStats), nil} {
		allocs := testing.AllocsPerRun(1000, func() {
			ls.requestStarted(ProtoHTTP1)
			ls.requestDone(ProtoHTTP1, "GET", 200, time.Since(started))
			ls.requestDone(ProtoHTTP2, "PROPFIND", 0, 0)
			ls.connOpened(h1)
			ls.connSwitched(h1, h2s)
			ls.connClosed(h2s)
			ls.wsIn(5)
			ls.wsOut(7)
			ls.h2Stream()
			ls.rejectStatus(431)
			ls.loopLag(time.Millisecond)
		})
		if allocs != 0 {
			t.Errorf("stats %v: %v allocations per request", ls != nil, allocs)
		}
	}
}

func TestStatsBuckets(t *testing.T) {
	ls := new(loopStats)
	for _, d := range []time.Duration{0, 500 * time.Microsecond, 501 * time.Microsecond, 20 * time.Second} {
		ls.duration[0].observe(d, durationBounds)
	}
	h := Histogram{Counts: make([]uint64, len(durationBounds)+1)}
	ls.duration[0].read(&h)
	if h.Counts[0] != 2 || h.Counts[1] != 1 || h.Counts[len(durationBounds)] != 1 || h.Count() != 4 {
		t.Errorf("buckets = %v", h.Counts)
	}
	if got := statusClass(0) + statusClass(99) + statusClass(600); got != 0 {
		t.Errorf("statusClass of non-statuses = %d", got)
	}
	if MethodNames[methodIndex("PROPFIND")] != "other" || MethodNames[methodIndex("PATCH")] != "PATCH" {
		t.Error("methodIndex")
	}
}

// TestStatsConcurrentScrape reads Server.Stats in a loop while HTTP/1.1 and HTTP/2
// clients make requests (under -race: the counters are written by the loops and the
// executor goroutines and read here), then checks the totals.
func TestStatsConcurrentScrape(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte("ok")})
	})
	ts := startServer(t, Config{Stats: true}, app)
	const clients, each = 4, 25
	stop := make(chan struct{})
	scraped := make(chan error, 1)
	go func() {
		var st Stats
		var last uint64
		for {
			ts.Stats(&st)
			var n uint64
			for p := range st.Requests {
				for m := range st.Requests[p] {
					for _, v := range st.Requests[p][m] {
						n += v
					}
				}
			}
			if st.InFlight < 0 || n < last {
				scraped <- fmt.Errorf("in flight %d, requests %d after %d", st.InFlight, n, last)
				return
			}
			last = n
			select {
			case <-stop:
				scraped <- nil
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := http.DefaultClient
			if i%2 == 1 {
				client = h2cClient()
			}
			for range each {
				resp, err := client.Get(ts.url("/x"))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-scraped; err != nil {
		t.Fatal(err)
	}
	want := uint64(clients / 2 * each)
	var st Stats
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts.Stats(&st)
		h1, h2 := st.Requests[ProtoHTTP1][0][2], st.Requests[ProtoHTTP2][0][2]
		if h1 == want && h2 == want && st.InFlight == 0 && st.H2Streams == want &&
			st.Duration[ProtoHTTP1].Count() == want && st.Duration[ProtoHTTP2].Count() == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET 2xx: h1 %d h2 %d streams %d in flight %d, want %d each", h1, h2, st.H2Streams, st.InFlight, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st.Loops == 0 || st.Connections[ProtoHTTP1]+st.Connections[ProtoHTTP2] <= 0 {
		t.Errorf("loops %d, connections %v", st.Loops, st.Connections)
	}
}

// TestStatsOff: without Config.Stats the server has no counters to report.
func TestStatsOff(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	resp, err := http.Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var st Stats
	ts.Stats(&st)
	if st.Loops != 0 || st.Requests[ProtoHTTP1][0][2] != 0 {
		t.Errorf("stats without Config.Stats: loops %d, requests %d", st.Loops, st.Requests[ProtoHTTP1][0][2])
	}
}

// BenchmarkStatsPerRequest is what Config.Stats adds to one inline HTTP/1.1 request:
// the start count, the request and duration counts (the end time from the loop's
// callback clock).
func BenchmarkStatsPerRequest(b *testing.B) {
	c := &conn{loop: &loop{stats: new(loopStats), now: time.Now()}}
	c.session = &h1Session{}
	st := &h1Stream{c: c, scope: &asgi.HTTPScope{Method: "GET"}, started: c.loop.now.UnixNano(), status: 200, inline: true}
	for b.Loop() {
		st.proto = uint8(sessionProto(c.session))
		c.loop.stats.requestStarted(int(st.proto))
		st.countDoneLocked()
	}
}

// TestStatsHTTP2Frames drives HTTP/2 by hand: a stream the client resets, one the
// server resets (WINDOW_UPDATE overflow), one answered, then the client's GOAWAY and
// the server's; Stats counts each frame and stream.
func TestStatsHTTP2Frames(t *testing.T) {
	ts := startServer(t, Config{Stats: true}, attackApp)
	var st Stats
	running := func() bool { ts.Stats(&st); return st.InFlight == 1 }
	r := dialH2(t, ts.addr)
	// Each reset comes once the stream's app runs: a stream reset in the read that
	// opened it never starts (Rapid Reset) and is no request.
	r.request(1, "GET", "/wait", true)
	testutil.WaitFor(t, 5*time.Second, "stream 1's app", running)
	r.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	testutil.WaitFor(t, 5*time.Second, "stream 1's end", func() bool {
		ts.Stats(&st)
		return st.InFlight == 0 && st.Requests[ProtoHTTP2][0][0] == 1
	})
	r.request(3, "GET", "/wait", true)
	testutil.WaitFor(t, 5*time.Second, "stream 3's app", running)
	r.fr.WriteWindowUpdate(3, 1<<31-1)
	r.request(5, "GET", "/hello", true)
	if got := r.wantStatus(10*time.Second, 5); got != "200" {
		t.Fatalf("stream 5: %s", got)
	}
	r.fr.WriteGoAway(5, http2.ErrCodeNo, nil)
	r.wantGoAway(10*time.Second, http2.ErrCodeNo)
	defer func() {
		if t.Failed() {
			t.Logf("streams %d resets sent %d received %d goaways sent %d received %d; h2 GET none %d 2xx %d; in flight %d",
				st.H2Streams, st.H2ResetsSent, st.H2ResetsReceived, st.H2GoAwaysSent, st.H2GoAwaysReceived,
				st.Requests[ProtoHTTP2][0][0], st.Requests[ProtoHTTP2][0][2], st.InFlight)
		}
	}()
	testutil.WaitFor(t, 5*time.Second, "the HTTP/2 counts", func() bool {
		ts.Stats(&st)
		return st.H2Streams == 3 && st.H2ResetsReceived == 1 && st.H2ResetsSent == 1 &&
			st.H2GoAwaysReceived == 1 && st.H2GoAwaysSent == 1 &&
			st.Requests[ProtoHTTP2][0][0] == 2 && st.Requests[ProtoHTTP2][0][2] == 1 && st.InFlight == 0
	})
}

// TestStatsUWSGI: uwsgi requests count under their own protocol, their connections too,
// and a refused packet as a rejection.
func TestStatsUWSGI(t *testing.T) {
	srv, _ := startListeners(t, Config{Stats: true, UWSGIBinds: []string{"127.0.0.1:0"}}, nil)
	addr := srv.Addrs()[0].String()
	uwsgiExchange(t, addr, uwsgiPacket(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/hello", "SERVER_PROTOCOL", "HTTP/1.1"), "")
	uwsgiExchange(t, addr, uwsgiPacket(0, "REQUEST_METHOD", "POST", "PATH_INFO", "/echo",
		"CONTENT_LENGTH", "2", "SERVER_PROTOCOL", "HTTP/1.1"), "hi")
	uwsgiExchange(t, addr, uwsgiPacket(5, "REQUEST_METHOD", "GET"), "")
	var st Stats
	testutil.WaitFor(t, 5*time.Second, "the uwsgi counts", func() bool {
		srv.Stats(&st)
		return st.Requests[ProtoUWSGI][0][2] == 1 && st.Requests[ProtoUWSGI][2][2] == 1 &&
			st.Requests[ProtoHTTP1][0][2] == 0 && st.Rejections[RejectBadRequest] == 1 &&
			st.Connections[ProtoUWSGI] == 0 && st.InFlight == 0 && st.Duration[ProtoUWSGI].Count() == 2
	})
}
