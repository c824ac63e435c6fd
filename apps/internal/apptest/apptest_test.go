package apptest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestForVersions(t *testing.T) {
	var seen []string
	ForVersions(t, func(t *testing.T, version string) {
		if want := "TestForVersions/HTTP/" + version; t.Name() != want {
			t.Errorf("subtest %q, want %q", t.Name(), want)
		}
		seen = append(seen, version)
	})
	if strings.Join(seen, " ") != "1.1 2" {
		t.Fatalf("ran %v", seen)
	}
}

func TestServeRecords(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		return httpx.Text(ctx, send, 201, "made\n")
	})
	rec, err := Serve(t, app, asgitest.NewHTTPScope("POST", "/"), asgitest.Script(&asgi.HTTPDisconnect{}))
	if err != nil {
		t.Fatal(err)
	}
	if resp := rec.Response(); resp.Status != 201 || string(resp.Body) != "made\n" || !resp.Complete {
		t.Fatalf("sent %s", rec)
	}
}

// fakeTB records Fatalf instead of ending the test, so a failing Serve can be observed.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.failed = format }

func TestServeFailsOnContractViolation(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, s asgi.Scope, r asgi.Receive, send asgi.Send) error {
		_ = send(ctx, &asgi.HTTPResponseBody{}) // body before start
		return nil
	})
	tb := &fakeTB{TB: t}
	Serve(tb, app, asgitest.NewHTTPScope("GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}))
	if !strings.HasPrefix(tb.failed, "contract violation") {
		t.Fatalf("Serve did not fail the test (Fatalf %q)", tb.failed)
	}
}

func TestFetchReadsWholeBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, strings.Repeat("y", 100_000))
		w.Header().Set("X-Sum", "ok")
	}))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := Fetch(t, srv.Client(), req)
	if resp.StatusCode != 200 || body != strings.Repeat("y", 100_000) || resp.Trailer.Get("X-Sum") != "ok" {
		t.Fatalf("status %d, %d bytes, trailer %v", resp.StatusCode, len(body), resp.Trailer)
	}
}
