package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/examples/internal/exampletest"
)

func TestEventsArriveAsSentAndStopWithTheClient(t *testing.T) {
	srv := exampletest.Start(t, exampletest.Build(t), nil)

	// HTTP/1.1 with Go's client: an endless stream whose events must arrive one by one.
	const interval = 200 * time.Millisecond
	resp, err := http.Get(srv.URL + "/events?interval=" + interval.String())
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content-type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var arrived []time.Time
	for len(arrived) < 3 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			arrived = append(arrived, time.Now())
		}
	}
	if len(arrived) < 3 {
		t.Fatalf("stream ended after %d events: %v", len(arrived), sc.Err())
	}
	if spread := arrived[2].Sub(arrived[0]); spread < interval {
		t.Errorf("3 events arrived within %v, want them %v apart", spread, interval)
	}
	if s := getStats(t, srv.URL); s["open"] != 1 {
		t.Errorf("stats while streaming: %v", s)
	}
	resp.Body.Close() // the client leaves: the app must stop producing
	srv.WaitLog(regexp.MustCompile(`msg="event stream stopped" reason=.* events=\d+`))
	waitStats(t, srv.URL, 1)

	// HTTP/2 with curl, which gives up after one second.
	out, err := exampletest.CurlErr("-N", "--http2-prior-knowledge", "--max-time", "1", srv.URL+"/events?interval=100ms")
	if err == nil || !strings.Contains(out, "id: 3\nevent: tick\n") {
		t.Fatalf("curl h2c: %v, output:\n%s", err, out)
	}
	waitStats(t, srv.URL, 2)

	// A finite stream ends the response itself.
	if out := exampletest.Curl(t, srv.URL+"/events?interval=10ms&n=2"); strings.Count(out, "event: tick\n") != 2 {
		t.Errorf("n=2 gave:\n%s", out)
	}
	srv.Stop()
}

func getStats(t *testing.T, base string) map[string]int64 {
	t.Helper()
	var s map[string]int64
	if err := json.Unmarshal([]byte(exampletest.Curl(t, base+"/stats")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitStats waits until stopped streams reach stopped and none is open.
func waitStats(t *testing.T, base string, stopped int64) {
	t.Helper()
	var s map[string]int64
	exampletest.WaitFor(t, exampletest.Timeout, fmt.Sprintf("stats stopped=%d open=0", stopped), func() bool {
		s = getStats(t, base)
		return s["stopped"] == stopped && s["open"] == 0
	})
}
