package eventloop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// startListeners runs a server with cfg's listeners as given (no TCP bind is added;
// startServer adds one), logging at debug level into the returned buffer.
func startListeners(t testing.TB, cfg Config, app asgi.App) (*Server, *testutil.LogBuffer) {
	t.Helper()
	if app == nil {
		app = newTestApp()
	}
	logs := &testutil.LogBuffer{}
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := New(cfg, app)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return srv, logs
}

// unixClient is an HTTP client that dials path whatever the URL's host.
func unixClient(path string) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func getBody(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scopeApp answers every request with its scope's client and server as JSON.
type scopeApp struct{}

func (scopeApp) ServeASGI(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	b, _ := json.Marshal(map[string]any{"client": s.Client, "server": s.Server})
	return respond(ctx, send, 200, string(b))
}

func TestUnixSocketServesAndIsRemovedOnShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asgo.sock")
	srv, logs := startListeners(t, Config{UnixSockets: []string{path}}, nil)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket file mode %v, want a socket with 0660", fi.Mode())
	}
	if got := srv.Addrs(); len(got) != 1 || got[0].Network() != "unix" || got[0].String() != path {
		t.Errorf("Addrs = %v, want the unix socket %s only", got, path)
	}
	if !strings.Contains(logs.String(), "addr=unix:"+path) {
		t.Errorf("no listening line with unix:%s in\n%s", path, logs.String())
	}
	c := unixClient(path)
	for i := range 20 {
		if st, b := getBody(t, c, "http://asgo/hello"); st != 200 || b != "Hello, World!" {
			t.Fatalf("request %d: %d %q", i, st, b)
		}
	}
	body := strings.Repeat("x", 3<<20)
	resp, err := c.Post("http://asgo/echo", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != body {
		t.Errorf("echo over the unix socket returned %d bytes, want %d", len(b), len(body))
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file still there after shutdown: %v", err)
	}
}

func TestUnixSocketScopeHasNoClientAndThePathAsServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	startListeners(t, Config{UnixSockets: []string{path}, UnixSocketMode: 0o600}, scopeApp{})
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v (%v), want 0600", fi.Mode(), err)
	}
	_, b := getBody(t, unixClient(path), "http://asgo/")
	want := fmt.Sprintf(`{"client":null,"server":{"host":%q,"port":0}}`, path)
	if b != want {
		t.Errorf("scope addresses %s, want %s", b, want)
	}
}

func TestUnixSocketStaleReplacedLiveRefused(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody accepts: stale
	startListeners(t, Config{UnixSockets: []string{stale}}, nil)
	if st, _ := getBody(t, unixClient(stale), "http://asgo/hello"); st != 200 {
		t.Fatalf("stale socket not replaced: %d", st)
	}

	// The same path again: now a live server owns it.
	srv := New(Config{UnixSockets: []string{stale}, Logger: slog.New(slog.DiscardHandler)}, newTestApp())
	err = srv.Start()
	if err == nil || !strings.Contains(err.Error(), "another process serves it") {
		srv.Close()
		t.Fatalf("second server on a live socket: %v, want 'another process serves it'", err)
	}
	if st, _ := getBody(t, unixClient(stale), "http://asgo/hello"); st != 200 {
		t.Fatalf("the refused server disturbed the live one: %d", st)
	}

	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	srv = New(Config{UnixSockets: []string{regular}, Logger: slog.New(slog.DiscardHandler)}, newTestApp())
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "not a socket") {
		srv.Close()
		t.Fatalf("socket over a regular file: %v", err)
	}
}

func TestUnixSocketBesideTCPBind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "both.sock")
	srv, _ := startListeners(t, Config{Binds: []string{"127.0.0.1:0"}, UnixSockets: []string{path}}, nil)
	addrs := srv.Addrs()
	if len(addrs) != 2 || addrs[0].Network() != "tcp" || addrs[1].Network() != "unix" {
		t.Fatalf("Addrs = %v", addrs)
	}
	if st, _ := getBody(t, http.DefaultClient, "http://"+addrs[0].String()+"/hello"); st != 200 {
		t.Fatalf("tcp: %d", st)
	}
	if st, _ := getBody(t, unixClient(path), "http://asgo/hello"); st != 200 {
		t.Fatalf("unix: %d", st)
	}
}

func TestListenFDServesAnInheritedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fd := inheritedFD(t, ln)
	srv, _ := startListeners(t, Config{ListenFDs: []int{fd}}, scopeApp{})
	addr := srv.Addrs()[0].String()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Error(err)
					return
				}
				fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Error(err)
					c.Close()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				c.Close()
				if !strings.Contains(string(b), `"server":{"host":"127.0.0.1"`) || !strings.Contains(string(b), `"client":{"host":"127.0.0.1"`) {
					t.Errorf("scope addresses %s", b)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestListenFDRefusesANonListeningDescriptor(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv := New(Config{ListenFDs: []int{int(f.Fd())}, Logger: slog.New(slog.DiscardHandler)}, newTestApp())
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "not a socket") {
		srv.Close()
		t.Fatalf("Start with a regular file as --fd: %v", err)
	}
}

func TestSdNotifyReadyAndStopping(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	cfg := Config{Systemd: true, Binds: []string{"127.0.0.1:0"}, Loops: 1, Logger: slog.New(slog.DiscardHandler)}
	srv := New(cfg, newTestApp())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	read := func() string {
		buf := make([]byte, 512)
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if got := read(); got != fmt.Sprintf("READY=1\nMAINPID=%d", os.Getpid()) {
		t.Errorf("first notification %q", got)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "STOPPING=1" {
		t.Errorf("second notification %q", got)
	}
}

func TestSystemdListenersReadsAndUnsetsTheVariables(t *testing.T) {
	t.Setenv("LISTEN_PID", fmt.Sprint(os.Getpid()))
	t.Setenv("LISTEN_FDS", "3")
	t.Setenv("LISTEN_FDNAMES", "web:admin")
	fds, names, err := SystemdListeners()
	if err != nil || fmt.Sprint(fds, names) != "[3 4 5] [web admin ]" {
		t.Errorf("SystemdListeners = %v %q %v", fds, names, err)
	}
	for _, v := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		if _, set := os.LookupEnv(v); set {
			t.Errorf("%s still set", v)
		}
	}
	// Meant for another process: ignored, and unset all the same.
	t.Setenv("LISTEN_PID", "1")
	t.Setenv("LISTEN_FDS", "2")
	if fds, _, err := SystemdListeners(); fds != nil || err != nil {
		t.Errorf("another process's sockets taken: %v %v", fds, err)
	}
	if _, set := os.LookupEnv("LISTEN_FDS"); set {
		t.Error("LISTEN_FDS still set")
	}
}

// inheritedFD returns a descriptor of ln's socket that no *os.File owns (the server
// takes it over and closes it; an os.File's finalizer would close the number again),
// and closes ln.
func inheritedFD(t testing.TB, ln net.Listener) int {
	t.Helper()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ln.Close()
	return fd
}
