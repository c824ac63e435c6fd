package eventloop

import (
	"bufio"
	"context"
	"fmt"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// stateApp answers with the lifespan value it reads, then overwrites it in its scope.
type stateApp struct{ inline bool }

func (a stateApp) Inline(asgi.Scope) bool { return a.inline }

func (stateApp) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	seen := fmt.Sprint(s.State.Get("greeting"))
	s.State.Set("greeting", "changed by "+s.Path)
	s.State.Set("own", true)
	return respond(ctx, send, 200, seen)
}

// TestScopeStateIsPerRequest checks that every request reads the lifespan state and
// that what one request writes into its scope's State reaches neither the lifespan
// state nor the next request, on the loop and on a goroutine.
func TestScopeStateIsPerRequest(t *testing.T) {
	for _, inline := range []bool{true, false} {
		t.Run(fmt.Sprint("inline=", inline), func(t *testing.T) {
			lifespan := map[string]any{"greeting": "hello"}
			ts := startServer(t, Config{State: func() map[string]any { return lifespan }}, stateApp{inline: inline})
			c := ts.dial(t)
			br := bufio.NewReader(c)
			for i := range 3 {
				fmt.Fprintf(c, "GET /r%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
				if got := body(t, roundTrip(t, c, br, "", "GET")); got != "hello" {
					t.Fatalf("request %d read %q, want the lifespan value", i, got)
				}
			}
			if len(lifespan) != 1 || lifespan["greeting"] != "hello" {
				t.Fatalf("requests wrote into the lifespan state: %v", lifespan)
			}
		})
	}
}
