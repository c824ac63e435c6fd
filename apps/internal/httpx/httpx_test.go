package httpx

import (
	"context"
	"math"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		max  int64
		want int64
		ok   bool
	}{
		{"0", 10, 0, true},
		{"007", 10, 7, true},
		{"10", 10, 10, true},
		{"11", 10, 0, false},
		{"", 10, 0, false},
		{"-1", 10, 0, false},
		{"+1", 10, 0, false},
		{" 1", 10, 0, false},
		{"1x", 10, 0, false},
		{"9223372036854775807", math.MaxInt64, math.MaxInt64, true},
		{"9223372036854775808", math.MaxInt64, 0, false},
		{"99999999999999999999999", math.MaxInt64, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseUint([]byte(tt.in), tt.max)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseUint(%q, %d) = %d, %v; want %d, ok=%v", tt.in, tt.max, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestQueryInt(t *testing.T) {
	tests := []struct {
		name, raw string
		want      int64
		ok        bool
	}{
		{"absent uses default", "", 5, true},
		{"present", "n=3", 3, true},
		{"first of repeated", "n=3&n=4", 3, true},
		{"empty value", "n=", 0, false},
		{"too large", "n=101", 0, false},
		{"negative", "n=-1", 0, false},
		{"percent-encoded digit", "n=%31", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseQuery([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			got, err := q.Int("n", 5, 100)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("Int = %d, %v; want %d ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
	if _, err := ParseQuery([]byte("a=%zz")); err == nil {
		t.Fatal("malformed query accepted")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	if err := MethodNotAllowed(context.Background(), rec.Send, []byte("GET, HEAD")); err != nil {
		t.Fatal(err)
	}
	resp := rec.Response()
	if resp.Status != 405 || string(resp.Headers.Get("allow")) != "GET, HEAD" || !resp.Complete {
		t.Fatalf("got %+v", resp)
	}
	if string(resp.Headers.Get("content-length")) != "19" || string(resp.Body) != "Method Not Allowed\n" {
		t.Fatalf("got %q %q", resp.Headers.Get("content-length"), resp.Body)
	}
}
