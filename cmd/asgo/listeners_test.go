package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Listeners other than --bind: Unix domain sockets (--uds), inherited sockets (--fd),
// systemd socket activation and sd_notify, with real curl, nginx and
// systemd-socket-activate.

// curlOut runs curl with args and returns its output, failing the test on an error.
func curlOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// terminate sends SIGTERM to p and waits for it to exit.
func (p *proc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("asgo did not exit after SIGTERM")
	}
}

func TestUnixSocketServesCurlH1H2AndWebSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asgo.sock")
	p := startAsgoCmd(t, "serve", "--uds", path, "--uds-mode", "0600")
	if p.addr != "unix:"+path {
		t.Fatalf("listening line says %q, want unix:%s", p.addr, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket file mode %v, want a socket with 0600", fi.Mode())
	}
	if out := curlOut(t, "--unix-socket", path, "http://localhost/"); out != "Hello, World!" {
		t.Errorf("HTTP/1.1 over the socket: %q", out)
	}
	if out := curlOut(t, "--unix-socket", path, "--http2-prior-knowledge", "-w", " %{http_version}", "http://localhost/"); out != "Hello, World! 2" {
		t.Errorf("h2c prior knowledge over the socket: %q", out)
	}
	if out := curlOut(t, "--unix-socket", path, "--http2", "-w", " %{http_version}", "http://localhost/"); out != "Hello, World! 2" {
		t.Errorf("Upgrade: h2c over the socket: %q", out)
	}
	ws := wsDial(t, "unix:"+path, "/ws")
	if err := ws.writeFrame(wsOpText, []byte("over a unix socket")); err != nil {
		t.Fatal(err)
	}
	ws.expectMessage(t, wsOpText, []byte("over a unix socket"))
	ws.closeHandshake(t)
	p.terminate(t)
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left after shutdown: %v", err)
	}
}

func TestUnixSocketLiveIsRefusedStaleIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asgo.sock")
	first := startAsgoCmd(t, "serve", "--uds", path)
	out, err := exec.Command(asgoBin, "serve", "--uds", path).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another process serves it") {
		t.Fatalf("second asgo on a live socket: %v\n%s", err, out)
	}
	// Kill the first: its socket file stays behind, stale.
	_ = first.cmd.Process.Kill()
	<-first.done
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("a killed server's socket file should stay: %v", err)
	}
	second := startAsgoCmd(t, "serve", "--uds", path)
	if out := curlOut(t, "--unix-socket", path, "http://localhost/"); out != "Hello, World!" {
		t.Errorf("over the replaced socket: %q", out)
	}
	second.terminate(t)
}

func TestNginxProxyPassToUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "asgo.sock")
	startAsgoCmd(t, "serve", "--uds", path)
	n := startNginx(t, "unix:"+path)
	c := ngxClient(t)
	for i := range 3 {
		resp, body := do(t, c, newReq(t, "GET", n.url("/"), nil))
		if resp.StatusCode != 200 || string(body) != "Hello, World!" {
			t.Fatalf("GET / #%d through nginx = %d %q", i, resp.StatusCode, body)
		}
	}
	up := patternBody(t, 4<<20)
	resp, body := do(t, c, newReq(t, "POST", n.url("/echo"), bytes.NewReader(up)))
	if resp.StatusCode != 200 || !bytes.Equal(body, up) {
		t.Fatalf("POST /echo of 4 MiB through nginx = %d with %d bytes", resp.StatusCode, len(body))
	}
	ws := wsDial(t, n.addr, "/ws")
	msg := patternBody(t, 100_000)
	if err := ws.writeFrame(wsOpBinary, msg); err != nil {
		t.Fatal(err)
	}
	ws.expectMessage(t, wsOpBinary, msg)
	ws.closeHandshake(t)
	n.assertNoUpstreamErrors(t)
}

func TestFDFlagServesAnInheritedListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	cmd := exec.Command(asgoBin, "serve", "--fd", "3")
	cmd.ExtraFiles = []*os.File{f}
	p := startProc(t, cmd, nil)
	f.Close()
	if p.addr != "fd:3" {
		t.Errorf("listening line says %q, want fd:3", p.addr)
	}
	if st, body := get(t, "http://"+addr+"/"); st != 200 || body != "Hello, World!" {
		t.Errorf("GET over --fd 3: %d %q", st, body)
	}
	if out := curlOut(t, "--http2-prior-knowledge", "-w", " %{http_version}", "http://"+addr+"/"); out != "Hello, World! 2" {
		t.Errorf("h2c over --fd 3: %q", out)
	}
	ws := wsDial(t, addr, "/ws")
	if err := ws.writeFrame(wsOpText, []byte("inherited")); err != nil {
		t.Fatal(err)
	}
	ws.expectMessage(t, wsOpText, []byte("inherited"))
	ws.closeHandshake(t)
}

func TestSystemdSocketActivation(t *testing.T) {
	if _, err := os.Stat("/usr/bin/systemd-socket-activate"); err != nil {
		t.Fatal("systemd-socket-activate is missing: `make deps` installs it (Debian package systemd)")
	}
	addr1 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	addr2 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command("/usr/bin/systemd-socket-activate", "-l", addr1, "-l", addr2,
		"--fdname=web:admin", asgoBin, "serve")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// The activator starts asgo at the first connection; that request waits for it.
	first := make(chan string, 1)
	p := startProc(t, cmd, func() {
		go func() {
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				resp, err := http.Get("http://" + addr1 + "/")
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					first <- fmt.Sprintf("%d %s", resp.StatusCode, b)
					return
				}
				time.Sleep(50 * time.Millisecond) // the activator may not listen yet
			}
			first <- "no answer"
		}()
	})
	if got := <-first; got != "200 Hello, World!" {
		t.Fatalf("first request through the activator: %q", got)
	}
	for _, name := range []string{"systemd:web", "systemd:admin"} {
		if !strings.Contains(p.logs(), "addr="+name) {
			t.Errorf("no listening line for %s in\n%s", name, p.logs())
		}
	}
	if strings.Contains(p.logs(), "addr=127.0.0.1:8000") {
		t.Errorf("the default bind was added beside the systemd sockets:\n%s", p.logs())
	}
	for _, a := range []string{addr1, addr2} {
		if st, body := get(t, "http://"+a+"/"); st != 200 || body != "Hello, World!" {
			t.Errorf("GET %s: %d %q", a, st, body)
		}
		if out := curlOut(t, "--http2-prior-knowledge", "-w", " %{http_version}", "http://"+a+"/"); out != "Hello, World! 2" {
			t.Errorf("h2c on %s: %q", a, out)
		}
		ws := wsDial(t, a, "/ws")
		if err := ws.writeFrame(wsOpText, []byte("activated")); err != nil {
			t.Fatal(err)
		}
		ws.expectMessage(t, wsOpText, []byte("activated"))
		ws.closeHandshake(t)
	}
}

func TestSdNotifyReadyThenStopping(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	cmd := exec.Command(asgoBin, "serve", "--bind", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock)
	p := startProc(t, cmd, nil)
	read := func() string {
		buf := make([]byte, 512)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("reading the notification socket: %v", err)
		}
		return string(buf[:n])
	}
	if got, want := read(), fmt.Sprintf("READY=1\nMAINPID=%d", p.cmd.Process.Pid); got != want {
		t.Errorf("first notification %q, want %q", got, want)
	}
	if st, _ := get(t, p.url("/")); st != 200 {
		t.Errorf("GET / after READY: %d", st)
	}
	p.terminate(t)
	if got := read(); got != "STOPPING=1" {
		t.Errorf("notification on SIGTERM %q, want STOPPING=1", got)
	}
}
