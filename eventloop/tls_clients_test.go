package eventloop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTLSCurl runs the real curl over TLS, verifying the server against the test CA:
// GET, an upload and a streamed response, over HTTP/1.1 and HTTP/2 (ALPN).
func TestTLSCurl(t *testing.T) {
	ts := startTLSServer(t, Config{}, nil)
	data := bytes.Repeat([]byte("asgo tls upload "), 300_000) // 4.8 MB: many records and window updates
	file := filepath.Join(t.TempDir(), "upload")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ flag, version string }{{"--http1.1", "1.1"}, {"--http2", "2"}} {
		t.Run(tc.version, func(t *testing.T) {
			args := []string{tc.flag, "--cacert", ts.certs.caFile}
			t.Run("get", func(t *testing.T) {
				out := h2curl(t, append(args, "-w", " %{http_version} %{scheme}", ts.url("/hello"))...)
				if want := "Hello, World! " + tc.version + " HTTPS"; out != want {
					t.Fatalf("got %q, want %q", out, want)
				}
			})
			t.Run("post upload", func(t *testing.T) {
				out := h2curl(t, append(args, "--data-binary", "@"+file, ts.url("/sha256"))...)
				if want := fmt.Sprintf("%d %x", len(data), sha256.Sum256(data)); out != want {
					t.Fatalf("got %q, want %q", out, want)
				}
			})
			t.Run("streaming", func(t *testing.T) {
				out := h2curl(t, append(args, "-N", ts.url("/stream?5"))...)
				if out != "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n" {
					t.Fatalf("got %q", out)
				}
			})
		})
	}
	// Without the CA, curl refuses the server: the certificate chain is what it checks.
	out, err := runCurl("--http2", ts.url("/hello"))
	if err == nil {
		t.Fatalf("curl trusted an unknown CA: %q", out)
	}
}

// TestTLSChromiumChatPage loads /chat.html?selftest over https in headless Chromium:
// the page talks to the chat room over wss://, and the browser reports h2 for the page.
func TestTLSChromiumChatPage(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatal("chromium is required; `make deps` installs it")
	}
	ts := startTLSServer(t, Config{}, newWSTestApp())
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	devtools := startChromium(ctx, t, "--ignore-certificate-errors")
	page := openPage(ctx, t, devtools)
	defer page.Close()
	status := page.waitStatus(t, ts.url("/chat.html?selftest"))
	if !strings.HasPrefix(status, "selftest: ok ") {
		t.Fatalf("page status %q", status)
	}
	proto := page.eval(t, `performance.getEntriesByType("navigation")[0].nextHopProtocol + " " + location.protocol`)
	if proto != "h2 https:" {
		t.Fatalf("page protocol %q, want h2 over https", proto)
	}
	t.Logf("page status: %s (%s)", status, proto)
}
