package echo

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// run calls app on a POST /echo with msgs as the request messages and headers.
func run(t *testing.T, app asgi.App, msgs []asgi.Message, headers ...string) (*asgitest.Recorder, error) {
	t.Helper()
	scope := asgitest.NewHTTPScope("POST", "/echo", headers...)
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	err := app.ServeASGI(context.Background(), scope, asgitest.Script(&asgi.HTTPDisconnect{}, msgs...), rec.Send)
	if rec.Err != nil {
		t.Fatalf("contract error: %v", rec.Err)
	}
	return rec, err
}

// pattern returns n bytes that differ between neighbouring chunks, so a reordered or
// repeated chunk shows. The 1 MiB period keeps it cheap under -race.
func pattern(n int) []byte {
	period := make([]byte, 1<<20)
	for i := range period {
		period[i] = byte(i*7 + i>>11)
	}
	b := make([]byte, n)
	for i := 0; i < n; i += copy(b[i:], period) {
	}
	return b
}

func TestEcho(t *testing.T) {
	big := pattern(64 << 20)
	tests := []struct {
		name       string
		body       []byte
		chunk      int
		withLength bool
		ctype      string
		maxMsgs    int // messages sent at most: start + body messages
	}{
		{"empty with length", nil, 0, true, "", 2},
		{"empty chunked", nil, 0, false, "", 2},
		{"small with length", []byte("hello"), 0, true, "text/plain", 2},
		{"small chunked in bytes", []byte("hello"), 1, false, "text/plain", 2},
		{"small with length in bytes", []byte("hello"), 1, true, "", 2},
		// Larger bodies go back in pieces of at least minPart (the last may be shorter).
		{"64 MiB with length in 16 KiB chunks", big, 16 << 10, true, "", 1 + 64<<20/minPart},
		{"64 MiB chunked in 16 KiB chunks", big, 16 << 10, false, "", 1 + 64<<20/minPart},
		{"8 MiB chunked in odd chunks", big[:8<<20], 65521, false, "", 2 + 8<<20/minPart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.ctype != "" {
				headers = append(headers, "content-type", tt.ctype)
			}
			if tt.withLength {
				headers = append(headers, "content-length", strconv.Itoa(len(tt.body)))
			}
			rec, err := run(t, New(Config{}), asgitest.Body(tt.body, tt.chunk), headers...)
			if err != nil {
				t.Fatal(err)
			}
			resp := rec.Response()
			if resp.Status != 200 || !resp.Complete || !bytes.Equal(resp.Body, tt.body) {
				t.Fatalf("status %d complete %v, body %d bytes equal=%v", resp.Status, resp.Complete, len(resp.Body), bytes.Equal(resp.Body, tt.body))
			}
			if got := string(resp.Headers.Get("content-length")); got != strconv.Itoa(len(tt.body)) {
				t.Fatalf("content-length %q, want %d", got, len(tt.body))
			}
			wantType := tt.ctype
			if wantType == "" {
				wantType = "application/octet-stream"
			}
			if got := string(resp.Headers.Get("content-type")); got != wantType {
				t.Fatalf("content-type %q, want %q", got, wantType)
			}
			if len(rec.Messages) < 2 || len(rec.Messages) > tt.maxMsgs {
				t.Fatalf("sent %d messages, want 2 to %d", len(rec.Messages), tt.maxMsgs)
			}
		})
	}
}

// TestEchoReadsBodyBeforeResponding checks that nothing is sent before the last chunk
// of a body within StreamAbove was received (reverse proxies need that).
func TestEchoReadsBodyBeforeResponding(t *testing.T) {
	chunks := asgitest.Body([]byte("abcdef"), 2)
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	i := 0
	receive := func(context.Context) (asgi.Message, error) {
		if len(rec.Messages) != 0 {
			t.Errorf("before receiving chunk %d: %d messages sent, want none", i, len(rec.Messages))
		}
		m := chunks[i]
		i++
		return m, nil
	}
	scope := asgitest.NewHTTPScope("POST", "/echo", "content-length", "6")
	if err := New(Config{}).ServeASGI(context.Background(), scope, receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	if got := string(rec.Response().Body); got != "abcdef" {
		t.Fatalf("body %q", got)
	}
}

// TestEchoStreamsAboveThreshold checks that with a Content-Length above StreamAbove the
// response starts and each chunk leaves before the next one is received.
func TestEchoStreamsAboveThreshold(t *testing.T) {
	chunks := asgitest.Body([]byte("abcdef"), 2)
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	i := 0
	receive := func(context.Context) (asgi.Message, error) {
		if want := 1 + i; len(rec.Messages) != want {
			t.Errorf("before receiving chunk %d: %d messages sent, want %d", i, len(rec.Messages), want)
		}
		m := chunks[i]
		i++
		return m, nil
	}
	scope := asgitest.NewHTTPScope("POST", "/echo", "content-length", "6")
	if err := New(Config{StreamAbove: 4}).ServeASGI(context.Background(), scope, receive, rec.Send); err != nil {
		t.Fatal(err)
	}
	if got := string(rec.Response().Body); got != "abcdef" {
		t.Fatalf("body %q", got)
	}
}

func TestEchoErrors(t *testing.T) {
	tests := []struct {
		name       string
		msgs       []asgi.Message
		headers    []string
		max        int64
		wantStatus int
		wantErr    error
	}{
		{"bad content-length", asgitest.Body([]byte("x"), 0), []string{"content-length", "x1"}, 0, 400, nil},
		{"negative content-length", asgitest.Body([]byte("x"), 0), []string{"content-length", "-1"}, 0, 400, nil},
		{"body shorter than content-length", asgitest.Body([]byte("abc"), 0), []string{"content-length", "5"}, 0, 0, ErrShortBody},
		{"body longer than content-length", asgitest.Body([]byte("abcdef"), 2), []string{"content-length", "3"}, 0, 0, ErrShortBody},
		{"streamed body shorter than content-length", asgitest.Body([]byte("abc"), 0), []string{"content-length", "5"}, 2, 200, ErrShortBody},
		{"chunked body over the cap", asgitest.Body(make([]byte, 100), 10), nil, 50, 413, nil},
		{"disconnect mid-body with length", asgitest.Body([]byte("abcdef"), 2)[:1], []string{"content-length", "6"}, 0, 0, nil},
		{"disconnect mid-body chunked", asgitest.Body([]byte("abcdef"), 2)[:1], nil, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := run(t, New(Config{MaxCollect: tt.max}), tt.msgs, tt.headers...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := rec.Response().Status; got != tt.wantStatus {
				t.Fatalf("status %d, want %d", got, tt.wantStatus)
			}
		})
	}
}

func TestEchoUnexpectedMessage(t *testing.T) {
	_, err := run(t, New(Config{}), []asgi.Message{&asgi.WebSocketConnect{}})
	if !asgi.IsContractError(err) {
		t.Fatalf("err = %v, want a contract error", err)
	}
}

// TestEchoInlinable: echo waits on nothing but receive, so it asks for the event loop;
// servers grant it only once the body is complete (eventloop's
// TestInlineAppWithBufferedBody).
func TestEchoInlinable(t *testing.T) {
	if !asgi.CanInline(New(Config{}), asgitest.NewHTTPScope("POST", "/echo")) {
		t.Fatal("echo does not ask to run on the event loop")
	}
}

// TestEchoAllocatesNothing: echoing a body, collected or streamed, costs the app no
// allocation: its messages, headers and piece list come from a pool.
func TestEchoAllocatesNothing(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 4096)
	req := &asgi.HTTPRequest{Body: body}
	receive := func(context.Context) (asgi.Message, error) { return req, nil }
	var sent int
	send := func(_ context.Context, m asgi.Message) error {
		if b, ok := m.(*asgi.HTTPResponseBody); ok {
			sent += len(b.Body)
		}
		return nil
	}
	for _, tc := range []struct {
		name string
		app  *Echo
	}{{"collected", New(Config{})}, {"streamed", New(Config{StreamAbove: 1})}} {
		scope := asgitest.NewHTTPScope("POST", "/echo", "content-length", "4096")
		ctx := context.Background()
		sent = 0
		allocs := testing.AllocsPerRun(200, func() {
			if err := tc.app.ServeASGI(ctx, scope, receive, send); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per echo, want 0", tc.name, allocs)
		}
		if sent != 201*len(body) {
			t.Errorf("%s: echoed %d bytes, want %d", tc.name, sent, 201*len(body))
		}
	}
}
