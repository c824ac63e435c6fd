package asgo_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// TestAnotherModuleServesItsAppWithRun builds testdata/usermodule as a module of its
// own that requires asgo through a replace directive, serves it with the flags of
// `asgo serve`, checks it over HTTP/1.1 and h2c with curl and over WebSocket, and stops
// it with SIGTERM.
func TestAnotherModuleServesItsAppWithRun(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("curl is required (make deps installs it)")
	}
	bin := buildUserModule(t)
	cmd := exec.Command(bin, "--bind", "127.0.0.1:0", "--timeout-graceful-shutdown", "5s", "--access-log=false")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg=listening addr=(\S+)`)
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(10 * time.Second):
		t.Fatal("the program did not start listening")
	}

	for _, proto := range []string{"--http1.1", "--http2-prior-knowledge"} {
		out, err := exec.Command(curl, "-sS", "--max-time", "10", proto, "-w", "%{http_version}", base+"/").CombinedOutput()
		if want := map[string]string{"--http1.1": "1.1", "--http2-prior-knowledge": "2"}[proto]; err != nil || string(out) != "served by my own app\n"+want {
			t.Fatalf("curl %s = %q, %v", proto, out, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, _, err := ws.Dial(ctx, "ws://"+base[len("http://"):]+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	if err := wsutil.WriteClientText(conn, []byte("ping over websocket")); err != nil {
		t.Fatal(err)
	}
	if msg, err := wsutil.ReadServerText(conn); err != nil || string(msg) != "ping over websocket" {
		t.Fatalf("WebSocket echo = %q, %v", msg, err)
	}
	conn.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the program did not exit after SIGTERM")
	}
}

// buildUserModule writes a module requiring asgo through a replace directive around
// testdata/usermodule/main.go and builds it.
func buildUserModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/usermodule/main.go")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	mod := "module example.com/myserver\n\ngo 1.26.8\n\nrequire github.com/asgo-dev/asgo v0.0.0\n\nreplace github.com/asgo-dev/asgo => " + root + "\n"
	for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum, "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "myserver")
	build := exec.Command("go", "build", "-mod=mod", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a module that requires asgo: %v\n%s", err, out)
	}
	return bin
}
