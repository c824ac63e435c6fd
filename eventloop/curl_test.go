package eventloop

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// curl runs the real curl client (a test dependency installed by `make deps`).
func curl(t *testing.T, stdin []byte, args ...string) (stdout, stderr string) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Fatalf("curl is required (make deps installs it): %v", err)
	}
	cmd := exec.Command(path, append([]string{"-sS", "--max-time", "20"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

func TestCurlKeepAliveReusesConnection(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	out, verbose := curl(t, nil, "-v", ts.url("/hello"), ts.url("/hello"))
	if out != "Hello, World!Hello, World!" {
		t.Fatalf("bodies: %q", out)
	}
	if !strings.Contains(verbose, "Re-using existing connection") && !strings.Contains(verbose, "Reusing existing") {
		t.Fatalf("curl did not reuse the connection:\n%s", verbose)
	}
}

func TestCurlChunkedUploadFromStdin(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	payload := bytes.Repeat([]byte("chunked upload via curl -T -\n"), 40000)
	out, verbose := curl(t, payload, "-v", "-T", "-", "-X", "POST", ts.url("/echo"))
	if !strings.Contains(verbose, "Transfer-Encoding: chunked") {
		t.Fatalf("curl did not send chunked:\n%s", verbose)
	}
	if out != string(payload) {
		t.Fatalf("echo mismatch: %d bytes back, sent %d", len(out), len(payload))
	}
}

func TestCurlExpectContinue(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	file := filepath.Join(t.TempDir(), "body")
	payload := bytes.Repeat([]byte("x"), 2<<20)
	if err := os.WriteFile(file, payload, 0o600); err != nil {
		t.Fatal(err)
	}
	out, verbose := curl(t, nil, "-v", "-H", "Expect: 100-continue", "--data-binary", "@"+file, ts.url("/echo"))
	if !strings.Contains(verbose, "HTTP/1.1 100 Continue") {
		t.Fatalf("no 100 Continue:\n%s", verbose)
	}
	if len(out) != len(payload) {
		t.Fatalf("echo: %d bytes, want %d", len(out), len(payload))
	}
}
