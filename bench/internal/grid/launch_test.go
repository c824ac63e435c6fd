package grid

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// shellServer is a server whose command is a shell script, for launcher tests.
func shellServer(script string) *Server {
	return &Server{Name: "sh", Kind: KindGoPeer, Routes: map[Family]string{IdleH1: "/"},
		Args: func(*Setup, int, bool) []string { return []string{"sh", "-c", script} }}
}

func TestLaunchReportsExitBeforeReady(t *testing.T) {
	port, _ := FreePort()
	_, err := Launch(context.Background(), &Setup{}, shellServer("exit 3"), port, false, false, io.Discard)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("err = %v", err)
	}
}

func TestProcAliveAndStop(t *testing.T) {
	port, _ := FreePort()
	// A TCP listener in the shell is not portable; use Python, which the bench needs anyway.
	script := "exec /usr/bin/python3 -c 'import socket,time,sys; s=socket.socket(); s.bind((\"127.0.0.1\"," +
		itoa(port) + ")); s.listen(); time.sleep(60)'"
	p, err := Launch(context.Background(), &Setup{}, shellServer(script), port, false, false, io.Discard)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	if !p.Alive() || p.RSS() <= 0 {
		t.Fatalf("alive %v rss %d", p.Alive(), p.RSS())
	}
	start := time.Now()
	p.Stop(2 * time.Second)
	if p.Alive() {
		t.Fatal("still alive after Stop")
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("Stop took %v", time.Since(start))
	}
}

func TestAliveSeesACrash(t *testing.T) {
	port, _ := FreePort()
	script := "exec /usr/bin/python3 -c 'import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\"," +
		itoa(port) + ")); s.listen(); time.sleep(0.5)'"
	p, err := Launch(context.Background(), &Setup{}, shellServer(script), port, false, false, io.Discard)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	defer p.Stop(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for p.Alive() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if p.Alive() {
		t.Fatal("a process that exited still counts as alive")
	}
}
