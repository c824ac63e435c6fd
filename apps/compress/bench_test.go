package compress

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// json64k is a 64 KiB JSON document of repetitive records, as an API returns.
var json64k = func() []byte {
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; sb.Len() < 64<<10-120; i++ {
		fmt.Fprintf(&sb, `{"id":%d,"name":"user %d","email":"user%d@example.com","active":%t},`, i, i, i, i%3 == 0)
	}
	s := strings.TrimSuffix(sb.String(), ",") + "]"
	return []byte(s + strings.Repeat(" ", 64<<10-len(s)))
}()

var jsonStart = &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "application/json", "content-length", fmt.Sprint(64<<10))}

func jsonApp(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	if err := send(ctx, jsonStart); err != nil {
		return err
	}
	return send(ctx, jsonBody)
}

var jsonBody = &asgi.HTTPResponseBody{Body: json64k}

// discard is a Send that keeps only the compressed size.
type discard struct{ n int }

func (d *discard) send(_ context.Context, msg asgi.Message) error {
	if m, ok := msg.(*asgi.HTTPResponseBody); ok {
		d.n += len(m.Body)
	}
	return nil
}

// BenchmarkJSON64K compresses a 64 KiB JSON response per encoding: B/op and allocs/op
// are what one compressed response costs with the pooled encoders.
func BenchmarkJSON64K(b *testing.B) {
	for _, enc := range []string{"identity", "gzip", "br", "zstd"} {
		b.Run(enc, func(b *testing.B) {
			c := mustNew(b, asgi.AppFunc(jsonApp), Config{Encodings: all})
			scope := asgitest.NewHTTPScope("GET", "/", "accept-encoding", enc)
			receive := asgitest.Script(&asgi.HTTPDisconnect{})
			var d discard
			send := d.send
			ctx := context.Background()
			b.SetBytes(int64(len(json64k)))
			b.ReportAllocs()
			for b.Loop() {
				d.n = 0
				if err := c.ServeASGI(ctx, scope, receive, send); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(d.n), "wire-bytes")
		})
	}
}

// TestPooledEncoders checks that a compressed 64 KiB response reuses a pooled encoder
// and buffers: a few small allocations, not an encoder (hundreds of KiB) each time.
func TestPooledEncoders(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures allocations (sync.Pool drops items at random under -race)")
	}
	for _, enc := range all {
		c := mustNew(t, asgi.AppFunc(jsonApp), Config{Encodings: all})
		scope := asgitest.NewHTTPScope("GET", "/", "accept-encoding", enc)
		receive := asgitest.Script(&asgi.HTTPDisconnect{})
		var d discard
		send := d.send
		ctx := context.Background()
		res := testing.Benchmark(func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.ServeASGI(ctx, scope, receive, send); err != nil {
					b.Fatal(err)
				}
			}
		})
		allocs := testing.AllocsPerRun(50, func() { _ = c.ServeASGI(ctx, scope, receive, send) })
		t.Logf("%s: %d B/op, %v allocs per compressed 64 KiB response", enc, res.AllocedBytesPerOp(), allocs)
		if res.AllocedBytesPerOp() > 16<<10 || allocs > 8 {
			t.Errorf("%s: %d B/op and %v allocs per response: encoders are not pooled", enc, res.AllocedBytesPerOp(), allocs)
		}
	}
}

var (
	helloStart = &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-type", "text/plain", "content-length", "13")}
	helloBody  = &asgi.HTTPResponseBody{Body: []byte("Hello, World!")}
)

// TestWrapperAllocs checks that the middleware costs no allocation on a response it
// does not compress (a small text body gets Vary only).
func TestWrapperAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	app := asgi.AppFunc(func(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
		if err := send(ctx, helloStart); err != nil {
			return err
		}
		return send(ctx, helloBody)
	})
	c := mustNew(t, app, Config{Encodings: all})
	send := func(context.Context, asgi.Message) error { return nil }
	receive := asgitest.Script(&asgi.HTTPDisconnect{})
	for _, ae := range []string{"", "gzip, br"} {
		scope := asgitest.NewHTTPScope("GET", "/", "accept-encoding", ae)
		if n := testing.AllocsPerRun(200, func() { _ = c.ServeASGI(context.Background(), scope, receive, send) }); n != 0 {
			t.Errorf("Accept-Encoding %q: %v allocations per response", ae, n)
		}
	}
}
