package wsload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// roomServer relays every message to every member, the sender included.
func roomServer(t *testing.T) string {
	up := websocket.Upgrader{}
	var mu sync.Mutex
	members := map[*websocket.Conn]*sync.Mutex{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		members[c] = &sync.Mutex{}
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(members, c)
			mu.Unlock()
			c.Close()
		}()
		for {
			mt, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			mu.Lock()
			for m, wmu := range members {
				wmu.Lock()
				m.WriteMessage(mt, data)
				wmu.Unlock()
			}
			mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/room"
}

func TestBroadcastCountsDeliveriesToEveryMember(t *testing.T) {
	url := roomServer(t)
	const members = 5
	var phases []string
	res, err := Broadcast(context.Background(), BroadcastConfig{URL: url, Conns: members, Size: 100,
		Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, OnPhase: func(p string) { phases = append(phases, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Published == 0 || res.Errors != 0 {
		t.Fatalf("published %d errors %d", res.Published, res.Errors)
	}
	// Every member receives every message; those in flight at the edges of the interval
	// may fall on either side, at most Window (4) of them per member.
	if lo, hi := (res.Published-4)*members, (res.Published+4)*members; res.Delivered < lo || res.Delivered > hi {
		t.Fatalf("delivered %d for %d published to %d members", res.Delivered, res.Published, members)
	}
	if res.Latency.Count() != uint64(res.Delivered) {
		t.Fatalf("latencies %d, deliveries %d", res.Latency.Count(), res.Delivered)
	}
	if strings.Join(phases, ",") != "start,end" {
		t.Fatalf("phases %v", phases)
	}
}

func TestBroadcastFailsWhenMembersHearNothing(t *testing.T) {
	url := echoServer(t, func(b []byte) []byte { return b }) // only the publisher hears back
	_, err := Broadcast(context.Background(), BroadcastConfig{URL: url, Conns: 3, Ready: 500 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "probe") {
		t.Fatalf("err %v, want members that never got the probe reported", err)
	}
}
