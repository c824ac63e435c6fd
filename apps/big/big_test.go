package big

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// counter is a Send that counts body bytes and checks the order, without keeping the
// bytes (so a multi-GiB response costs nothing in the test).
type counter struct {
	order  asgi.HTTPResponseOrder
	start  *asgi.HTTPResponseStart
	bytes  int64
	msgs   int
	notX   bool
	maxLen int
}

func (c *counter) send(_ context.Context, msg asgi.Message) error {
	if err := c.order.Check(msg); err != nil {
		return err
	}
	switch m := msg.(type) {
	case *asgi.HTTPResponseStart:
		c.start = m
	case *asgi.HTTPResponseBody:
		c.msgs++
		c.bytes += int64(len(m.Body))
		c.maxLen = max(c.maxLen, len(m.Body))
		if bytes.Count(m.Body, []byte{'x'}) != len(m.Body) {
			c.notX = true
		}
	}
	return nil
}

func TestBig(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		want     int64
		wantMsgs int
	}{
		{"default 1 MiB", "", 1 << 20, 16},
		{"zero", "bytes=0", 0, 1},
		{"one", "bytes=1", 1, 1},
		{"one chunk", "bytes=65536", 65536, 1},
		{"chunk plus one", "bytes=65537", 65537, 2},
		{"odd size", "bytes=1000003", 1000003, 16},
		{"1 GiB", "bytes=1073741824", 1 << 30, 1 << 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c counter
			scope := asgitest.NewHTTPScope("GET", "/big?"+tt.query)
			if err := App.ServeASGI(context.Background(), scope, nil, c.send); err != nil {
				t.Fatal(err)
			}
			if c.order.State != asgi.HTTPResponseComplete {
				t.Fatal("response not complete")
			}
			if c.bytes != tt.want || c.msgs != tt.wantMsgs || c.notX || c.maxLen > ChunkSize {
				t.Fatalf("sent %d bytes in %d messages (max %d, notX=%v), want %d in %d", c.bytes, c.msgs, c.maxLen, c.notX, tt.want, tt.wantMsgs)
			}
			if cl := string(c.start.Headers.Get("content-length")); cl != strconv.FormatInt(tt.want, 10) {
				t.Fatalf("content-length %q", cl)
			}
		})
	}
}

func TestBigBadRequest(t *testing.T) {
	for _, q := range []string{"bytes=-1", "bytes=x", "bytes=", "bytes=1099511627777", "bytes=%"} {
		t.Run(q, func(t *testing.T) {
			resp, err := asgitest.Call(context.Background(), App, "GET", "/big?"+q, nil)
			if err != nil || resp.Status != 400 {
				t.Fatalf("status %d err %v, want 400", resp.Status, err)
			}
		})
	}
}

// TestBigLimit checks that the largest size is accepted by parsing alone (sending a
// TiB is left to nobody).
func TestBigLimit(t *testing.T) {
	for _, tt := range []struct {
		q  string
		ok bool
	}{{"bytes=68719476736", true}, {"bytes=1099511627776", true}, {"bytes=1099511627777", false}} {
		if n, err := size([]byte(tt.q)); (err == nil) != tt.ok {
			t.Fatalf("size(%q) = %d, %v", tt.q, n, err)
		}
	}
}

func TestBigStopsOnDisconnect(t *testing.T) {
	var sends int
	send := func(context.Context, asgi.Message) error {
		sends++
		if sends == 3 {
			return asgi.ErrDisconnected
		}
		return nil
	}
	if err := App.ServeASGI(context.Background(), asgitest.NewHTTPScope("GET", "/big?bytes=68719476736"), nil, send); err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
	if sends != 3 {
		t.Fatalf("%d sends after a disconnect at the 3rd", sends)
	}
}

func TestBigStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var sends int
	send := func(context.Context, asgi.Message) error {
		if sends++; sends == 2 {
			cancel()
		}
		return nil
	}
	err := App.ServeASGI(ctx, asgitest.NewHTTPScope("GET", "/big?bytes=68719476736"), nil, send)
	if !errors.Is(err, context.Canceled) || sends != 2 {
		t.Fatalf("err = %v after %d sends, want context.Canceled after 2", err, sends)
	}
}

func TestBigAllocs(t *testing.T) {
	scope := asgitest.NewHTTPScope("GET", "/big?bytes=1073741824")
	discard := func(context.Context, asgi.Message) error { return nil }
	allocs := testing.AllocsPerRun(3, func() {
		if err := App.ServeASGI(context.Background(), scope, nil, discard); err != nil {
			t.Fatal(err)
		}
	})
	// Query parsing and the start message; nothing grows with the 1 GiB size.
	if allocs > 20 {
		t.Fatalf("%v allocations for 1 GiB, want a constant handful", allocs)
	}
}
