package eventloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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
	// A keep-alive connection of the old server, idle when the handover comes.
	kc, kr := dialServedBy(t, addr, "old")
	next, _ := startListeners(t, Config{Inherited: ls, Binds: []string{"127.0.0.1:1"}}, nameApp("new"))
	if got := len(next.Addrs()); got != 2 {
		t.Errorf("the new server reports %v, want the socket and the bind once each", next.Addrs())
	}
	old.StopAccepting(true)
	drained := make(chan error, 1)
	go func() { drained <- old.Shutdown(context.Background()) }()
	// The drain does not close it under a request that may be on its way: the next
	// request is answered, with Connection: close.
	time.Sleep(50 * time.Millisecond)
	fmt.Fprint(kc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(kr, nil)
	if err != nil {
		t.Fatalf("the idle keep-alive connection after the handover: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "old" || !resp.Close {
		t.Errorf("its next response: %q, Connection: close %v; want old's, closing", b, resp.Close)
	}
	kc.Close()
	tcp := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 20 {
		if st, b := getBody(t, tcp, "http://"+addr+"/"); st != 200 || b != "new" {
			t.Fatalf("TCP request %d after the handover: %d %q", i, st, b)
		}
		if st, b := getBody(t, unixClient(path), "http://asgo/"); st != 200 || b != "new" {
			t.Fatalf("unix request %d after the handover: %d %q", i, st, b)
		}
	}
	if err := <-drained; err != nil {
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

// dialServedBy opens keep-alive connections to addr until one is answered by the app
// called want (several servers may accept on the same sockets), and returns it.
func dialServedBy(t *testing.T, addr, want string) (net.Conn, *bufio.Reader) {
	t.Helper()
	for range 50 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) == want && !resp.Close {
			return c, br
		}
		c.Close()
	}
	t.Fatalf("no connection answered by %s", want)
	return nil, nil
}
