package eventloop

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

type nameApp string

func (n nameApp) ServeASGI(ctx context.Context, _ asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	return respond(ctx, send, 200, string(n))
}

// TestHandoverToASecondServer hands every listener of a server (the per-loop native
// listeners and a Unix socket) to a second server in the same process through
// DupListeners and Config.Inherited: after StopAccepting(true) only the second
// answers, on the same sockets, and the socket file stays until the second stops.
func TestHandoverToASecondServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asgo.sock")
	old, _ := startListeners(t, Config{Binds: []string{"127.0.0.1:0"}, UnixSockets: []string{path}}, nameApp("old"))
	addr := old.Addrs()[0].String()
	ls, err := old.DupListeners()
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 3 { // the socket file and one native listener per loop
		t.Fatalf("DupListeners = %+v, want 3", ls)
	}
	next, _ := startListeners(t, Config{Inherited: ls, Binds: []string{"127.0.0.1:1"}}, nameApp("new"))
	if got := len(next.Addrs()); got != 2 {
		t.Errorf("the new server reports %v, want the socket and the bind once each", next.Addrs())
	}
	old.StopAccepting(true)
	tcp := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 20 {
		if st, b := getBody(t, tcp, "http://"+addr+"/"); st != 200 || b != "new" {
			t.Fatalf("TCP request %d after the handover: %d %q", i, st, b)
		}
		if st, b := getBody(t, unixClient(path), "http://asgo/"); st != 200 || b != "new" {
			t.Fatalf("unix request %d after the handover: %d %q", i, st, b)
		}
	}
	if err := old.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("the old server removed the socket file it handed over: %v", err)
	}
	if st, b := getBody(t, tcp, "http://"+addr+"/"); st != 200 || b != "new" {
		t.Fatalf("after the old server stopped: %d %q", st, b)
	}
	next.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("the new server left the socket file it owned: %v", err)
	}
}
