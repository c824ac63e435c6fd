package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func want(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "chunk %d\n", i)
	}
	return b.String()
}

func TestStream(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		wantStatus int
		wantLines  int
	}{
		{"default", "/stream", 200, DefaultN},
		{"n=3", "/stream?n=3", 200, 3},
		{"n=0", "/stream?n=0", 200, 0},
		{"delay", "/stream?n=3&delay=5", 200, 3},
		{"n too large", "/stream?n=1000001", 400, -1},
		{"negative n", "/stream?n=-1", 400, -1},
		{"n not a number", "/stream?n=ten", 400, -1},
		{"delay too large", "/stream?delay=60001", 400, -1},
		{"delay not a number", "/stream?delay=1.5", 400, -1},
		{"bad query", "/stream?n=%zz", 400, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := asgitest.Call(context.Background(), App, "GET", tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus || !resp.Complete {
				t.Fatalf("status %d complete %v, want %d", resp.Status, resp.Complete, tt.wantStatus)
			}
			if tt.wantLines < 0 {
				return
			}
			if resp.Headers.Has("content-length") {
				t.Fatal("streamed response has a content-length")
			}
			if got := string(resp.Body); got != want(tt.wantLines) {
				t.Fatalf("body has %d bytes, want %d", len(got), len(want(tt.wantLines)))
			}
		})
	}
}

// TestStreamLong counts the messages and bytes of a long stream without recording
// them, and checks that the largest n is accepted.
func TestStreamLong(t *testing.T) {
	if n, _, err := params([]byte("n=1000000")); err != nil || n != MaxN {
		t.Fatalf("n=MaxN: %d, %v", n, err)
	}
	const n = 100_000
	var msgs, size int
	var last []byte
	send := func(_ context.Context, m asgi.Message) error {
		if b, ok := m.(*asgi.HTTPResponseBody); ok {
			msgs++
			size += len(b.Body)
			if len(b.Body) > 0 {
				last = append(last[:0], b.Body...)
			}
		}
		return nil
	}
	if err := App.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/stream?n=100000"), nil, send); err != nil {
		t.Fatal(err)
	}
	if msgs != n+1 || string(last) != "chunk 99999\n" || size != len(want(n)) {
		t.Fatalf("%d messages, %d bytes, last %q", msgs, size, last)
	}
}

func TestStreamMessagePerLine(t *testing.T) {
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := App.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/stream?n=4"), nil, rec.Send); err != nil {
		t.Fatal(err)
	}
	if len(rec.Messages) != 1+4+1 {
		t.Fatalf("sent %s", rec)
	}
	for i, m := range rec.Messages[1:5] {
		b := m.(*asgi.HTTPResponseBody)
		if string(b.Body) != fmt.Sprintf("chunk %d\n", i) || !b.MoreBody {
			t.Fatalf("message %d = %q more=%v", i, b.Body, b.MoreBody)
		}
	}
	if last := rec.Messages[5].(*asgi.HTTPResponseBody); len(last.Body) != 0 || last.MoreBody {
		t.Fatalf("final message %+v", last)
	}
}

func TestStreamDelay(t *testing.T) {
	begin := time.Now()
	if _, err := asgitest.Call(context.Background(), App, "GET", "/stream?n=4&delay=20", nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d < 60*time.Millisecond {
		t.Fatalf("4 lines 20 ms apart took %v, want >= 60ms", d)
	}
}

// TestStreamStopsOnSendError checks that the app makes no further send after the
// first failed one and reports a disconnect as a normal end.
func TestStreamStopsOnSendError(t *testing.T) {
	for _, failAt := range []int32{1, 2, 5} {
		t.Run(fmt.Sprint(failAt), func(t *testing.T) {
			var calls atomic.Int32
			send := func(context.Context, asgi.Message) error {
				if calls.Add(1) >= failAt {
					return asgi.ErrDisconnected
				}
				return nil
			}
			err := App.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/stream?n=1000000"), nil, send)
			if err != nil {
				t.Fatalf("err = %v, want nil for a disconnect", err)
			}
			if got := calls.Load(); got != failAt {
				t.Fatalf("%d sends, want exactly %d", got, failAt)
			}
		})
	}
}

func TestStreamOtherSendErrorReturned(t *testing.T) {
	boom := errors.New("boom")
	send := func(context.Context, asgi.Message) error { return boom }
	if err := App.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/stream"), nil, send); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestStreamCancelDuringSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	done := make(chan error, 1)
	go func() {
		done <- App.ServeASGI(ctx, asgitest.NewHTTPScope("GET", "/stream?n=5&delay=60000"), nil, rec.Send)
	}()
	// The first line is sent before the stream sleeps its 60 s delay.
	testutil.WaitFor(t, 5*time.Second, "the start and the first line", func() bool { return len(strings.Fields(rec.String())) == 2 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream kept sleeping after cancellation")
	}
	if len(rec.Messages) != 2 { // start and the first line
		t.Fatalf("sent %s", rec)
	}
}

func TestStreamNotInlinable(t *testing.T) {
	if asgi.CanInline(App, asgitest.NewHTTPScope("GET", "/stream")) {
		t.Fatal("stream sleeps: it must not run on the event loop")
	}
}
