package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// startAsgoWithFileLimit runs asgo under a hard open-file limit of n.
func startAsgoWithFileLimit(t *testing.T, n int, args ...string) *proc {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	orig := asgoBin
	script := "ulimit -n " + strconv.Itoa(n) + " && exec " + orig + ` "$@"`
	asgoBin = sh
	defer func() { asgoBin = orig }()
	return startAsgoCmd(t, append([]string{"-c", script, "asgo", "serve", "--bind", "127.0.0.1:0"}, args...)...)
}

func holdConnections(t *testing.T, addr string, n int) (ok []net.Conn, refused int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			refused++
			continue
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			refused++
			c.Close()
			continue
		}
		resp.Body.Close()
		ok = append(ok, c)
	}
	return ok, refused
}

func TestConnectionCapKeepsServerBelowFileLimit(t *testing.T) {
	p := startAsgoWithFileLimit(t, 128, "--app", "hello", "--timeout-keep-alive", "1m")
	conns, refused := holdConnections(t, p.addr, 150)
	if refused == 0 || len(conns) < 50 {
		t.Fatalf("held %d, refused %d: want a cap below the file limit", len(conns), refused)
	}
	for _, c := range conns {
		c.Close()
	}
	// The closed connections' slots come free once the server has seen them close.
	var code int
	var body string
	testutil.WaitFor(t, 5*time.Second, "a request served after the flood", func() bool {
		code, body = tryGet(p.url("/"))
		return code == 200
	})
	if body != "Hello, World!" {
		t.Fatalf("after the flood: %d %q", code, body)
	}
}

func TestServerSurvivesEMFILE(t *testing.T) {
	// A connection cap above the file limit lets accept hit EMFILE, which stops gnet's
	// engine; the supervisor must bring the listeners back.
	p := startAsgoWithFileLimit(t, 64, "--app", "hello", "--max-connections", "1000", "--timeout-keep-alive", "1m")
	conns, _ := holdConnections(t, p.addr, 100)
	for _, c := range conns {
		c.Close()
	}
	testutil.WaitFor(t, 10*time.Second, "the server to recover from EMFILE", func() bool {
		code, _ := tryGet(p.url("/"))
		return code == 200
	})
}

// tryGet GETs url within 5 s and returns the status and body, or 0 and the error's text.
func tryGet(url string) (int, string) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(b)
}
