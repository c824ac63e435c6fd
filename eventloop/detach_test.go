package eventloop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// detachApp answers /hold and detaches, then keeps its goroutine until release is
// closed; /fail detaches with an error before sending anything; other paths answer
// at once.
type detachApp struct {
	release  chan struct{}
	held     chan struct{} // one value per /hold that detached
	returned chan struct{} // one value per detached call that returned
	lateSend chan error    // what a send after /fail's detach returned
}

func (a *detachApp) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	d, ok := asgi.DetacherOf(ctx)
	if !ok {
		return errors.New("no Detacher offered off the loop")
	}
	switch s.Path {
	case "/hold":
		if err := respond(ctx, send, 200, "held"); err != nil {
			return err
		}
		d.Detach(nil)
		a.held <- struct{}{}
		<-a.release
		defer func() { a.returned <- struct{}{} }()
		// The call has ended: the server ignores what the app returns now.
		return errors.New("returned after the detach")
	case "/fail":
		d.Detach(errors.New("gave up"))
		a.lateSend <- respond(ctx, send, 200, "too late")
		<-a.release
		a.returned <- struct{}{}
		return nil
	}
	return respond(ctx, send, 200, "fast")
}

// TestDetachEndsTheCall checks that an app's Detach ends its call while its goroutine
// runs on: the connection's next request is served, the in-flight count drops, the
// later return is ignored, a detach without a response gets the failure policy's 500,
// and a send after the detach is refused.
func TestDetachEndsTheCall(t *testing.T) {
	app := &detachApp{release: make(chan struct{}), held: make(chan struct{}, 10), returned: make(chan struct{}, 10), lateSend: make(chan error, 1)}
	ts := startServer(t, Config{}, app)

	c := ts.dial(t)
	br := bufio.NewReader(c)
	for _, path := range []string{"/hold", "/fast", "/hold", "/fast"} {
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
		want := map[string]string{"/hold": "held", "/fast": "fast"}[path]
		if got := body(t, roundTrip(t, c, br, "", "GET")); got != want {
			t.Fatalf("%s: %q, want %q", path, got, want)
		}
	}
	for range 2 {
		<-app.held
	}
	testutil.WaitFor(t, 5*time.Second, "no call in flight while two goroutines hold on", func() bool {
		return ts.inflight.Load() == 0
	})

	resp, err := http.Get(ts.url("/fail"))
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); resp.StatusCode != 500 || strings.Contains(got, "too late") {
		t.Fatalf("detach with an error and nothing sent: %d %q, want the 500 alone", resp.StatusCode, got)
	}
	if err := <-app.lateSend; err == nil {
		t.Fatal("a send after the detach was accepted")
	}

	// HTTP/2: the stream ends at the detach, the next one is served.
	h2 := h2cClient()
	for _, path := range []string{"/hold", "/fast"} {
		resp, err := h2.Get(ts.url(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := body(t, resp); resp.ProtoMajor != 2 || got != map[string]string{"/hold": "held", "/fast": "fast"}[path] {
			t.Fatalf("HTTP/%d %s: %q", resp.ProtoMajor, path, got)
		}
	}
	<-app.held
	testutil.WaitFor(t, 5*time.Second, "no HTTP/2 call in flight", func() bool { return ts.inflight.Load() == 0 })

	close(app.release)
	for range 4 { // three holds and the failure return now
		<-app.returned
	}
	time.Sleep(100 * time.Millisecond) // a late return would be logged right after it
	logs := ts.logs.String()
	if strings.Contains(logs, "returned after the detach") || strings.Count(logs, "gave up") != 1 {
		t.Fatalf("a return after the detach counted, or the detach error was not logged once:\n%s", logs)
	}
}
