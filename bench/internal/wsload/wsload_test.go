package wsload

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func echoServer(t *testing.T, mutate func([]byte) []byte) string {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, data, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, mutate(data)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func TestRunCountsEchoes(t *testing.T) {
	url := echoServer(t, func(b []byte) []byte { return b })
	var phases []string
	res, err := Run(context.Background(), Config{URL: url, Conns: 4, Size: 300, Warmup: 50 * time.Millisecond,
		Duration: 200 * time.Millisecond, OnPhase: func(p string) { phases = append(phases, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages == 0 || res.Errors != 0 || res.Latency.Count() != uint64(res.Messages) {
		t.Fatalf("messages %d errors %d latencies %d", res.Messages, res.Errors, res.Latency.Count())
	}
	if strings.Join(phases, ",") != "start,end" {
		t.Fatalf("phases %v", phases)
	}
	if res.Duration < 200*time.Millisecond {
		t.Fatalf("duration %v", res.Duration)
	}
}

func TestRunCountsWrongEchoAsError(t *testing.T) {
	url := echoServer(t, func(b []byte) []byte { return b[:1] })
	res, err := Run(context.Background(), Config{URL: url, Conns: 2, Warmup: 20 * time.Millisecond, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 2 || res.Messages != 0 {
		t.Fatalf("errors %d messages %d, want every connection failed", res.Errors, res.Messages)
	}
}

func TestRunRefusedHandshake(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := Run(context.Background(), Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Conns: 2})
	if err == nil {
		t.Fatal("refused handshake not reported")
	}
	if errors.Is(err, ErrEcho) {
		t.Fatalf("wrong error %v", err)
	}
}

func TestMaskedFrame(t *testing.T) {
	f := maskedFrame(200)
	// 2 bytes header, 2 bytes extended length (126), 4 bytes mask, payload.
	if len(f) != 2+2+4+200 || f[0] != 0x82 || f[1] != 0x80|126 {
		t.Fatalf("frame header % x, len %d", f[:4], len(f))
	}
}
