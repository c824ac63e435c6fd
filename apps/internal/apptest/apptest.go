package apptest

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// Versions are the HTTP versions ("1.1", "2") an adapter scenario runs under: over
// asgitest they differ in the scope's http_version, end to end in the connection.
var Versions = []string{"1.1", "2"}

// ForVersions runs f as one subtest per entry of Versions, named "HTTP/1.1", "HTTP/2".
func ForVersions(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range Versions {
		t.Run("HTTP/"+v, func(t *testing.T) { f(t, v) })
	}
}

// CallTimeout bounds one Serve call.
const CallTimeout = 10 * time.Second

// Serve calls app on scope with receive, records what it sends, and returns the
// recorder and ServeASGI's error. The call's context ends after CallTimeout. A message
// that breaks the ASGI contract fails the test at once. Call from the test goroutine.
func Serve(t testing.TB, app asgi.App, scope *asgi.HTTPScope, receive asgi.Receive) (*asgitest.Recorder, error) {
	t.Helper()
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	err := app.ServeASGI(ctx, scope, receive, rec.Send)
	if rec.Err != nil {
		t.Fatalf("contract violation: %v (sent %s)", rec.Err, rec)
	}
	return rec, err
}

// Fetch sends req with c and returns the response with its whole body read and closed.
// An error sending the request or reading the body fails the test at once. Call from
// the test goroutine.
func Fetch(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}
