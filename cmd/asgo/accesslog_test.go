package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAccessLogFileAndSIGHUP writes the access log to a file in a custom format over
// HTTP/1.1 and h2c, then renames the file as logrotate does and sends SIGHUP: later
// lines go to a new file of the same name.
func TestAccessLogFileAndSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	p := startAsgo(t, "--access-log-file", path,
		"--access-log-format", `%(H)s %(m)s %(U)s %(q)s %(s)s %(B)s "%({user-agent}i)s" %(D)s`)
	curlOut(t, "-A", "t-h1", p.url("/?a=1"))
	curlOut(t, "--http2-prior-knowledge", "-A", "t-h2", p.url("/big?bytes=10"))
	first := []string{`HTTP/1.1 GET / a=1 200 13 "t-h1" `, `HTTP/2 GET /big bytes=10 200 10 "t-h2" `}
	waitLines(t, path, first)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs(), "access-log=reopened") {
		if time.Now().After(deadline) {
			t.Fatal("no reopen after SIGHUP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	curlOut(t, "-A", "t-after", p.url("/"))
	waitLines(t, path, []string{`HTTP/1.1 GET /  200 13 "t-after" `})
	waitLines(t, path+".1", first)
	if strings.Contains(p.logs(), "t-h1") || strings.Contains(p.logs(), `GET /`) {
		t.Errorf("access lines on stderr too:\n%s", p.logs())
	}
}

// waitLines waits until path holds exactly len(prefixes) lines, each beginning with
// its prefix followed by a number (the %(D)s microseconds).
func waitLines(t *testing.T, path string, prefixes []string) {
	t.Helper()
	var got string
	for range 500 {
		b, _ := os.ReadFile(path)
		got = string(b)
		if matchLines(got, prefixes) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s:\n%s\nwant lines beginning with %q", path, got, prefixes)
}

func matchLines(got string, prefixes []string) bool {
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if !strings.HasSuffix(got, "\n") || len(lines) != len(prefixes) {
		return false
	}
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, prefixes[i])
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
			return false
		}
	}
	return true
}
