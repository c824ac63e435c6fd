package eventloop

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// responseLines returns curl -v's received header lines ("< ..."), trimmed.
func responseLines(verbose string) []string {
	var out []string
	for _, l := range strings.Split(verbose, "\n") {
		if strings.HasPrefix(l, "< ") {
			out = append(out, strings.TrimSpace(l[2:]))
		}
	}
	return out
}

// wantEarlyHints checks that lines hold a 103 with both Link fields, before the 200.
func wantEarlyHints(t *testing.T, lines []string, hint103, final200 string) {
	t.Helper()
	joined := strings.ToLower(strings.Join(lines, "\n"))
	i103 := strings.Index(joined, strings.ToLower(hint103))
	i200 := strings.Index(joined, strings.ToLower(final200))
	iCSS := strings.Index(joined, "link: </app.css>; rel=preload; as=style")
	iJS := strings.Index(joined, "link: </app.js>; rel=preload; as=script")
	if i103 < 0 || i200 < 0 || iCSS < i103 || iJS < i103 || iCSS > i200 || iJS > i200 {
		t.Fatalf("want %q with both links before %q, got:\n%s", hint103, final200, strings.Join(lines, "\n"))
	}
}

// TestEarlyHintsCurl: curl shows the 103 Early Hints with its Link fields before the
// final response, over HTTP/1.1 and over h2c (prior knowledge and Upgrade).
func TestEarlyHintsCurl(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	t.Run("http1.1", func(t *testing.T) {
		out, verbose := curl(t, nil, "-v", "--http1.1", ts.url("/early-hints"))
		if out != "hinted" {
			t.Fatalf("body %q", out)
		}
		lines := responseLines(verbose)
		wantEarlyHints(t, lines, "HTTP/1.1 103 Early Hints", "HTTP/1.1 200")
		if n := strings.Count(strings.Join(lines, "\n"), "103 Early Hints"); n != 2 {
			t.Fatalf("%d 103 responses, want 2 (one per hint):\n%s", n, verbose)
		}
	})
	t.Run("h2c prior knowledge", func(t *testing.T) {
		out, verbose := curl(t, nil, "-v", "--http2-prior-knowledge", ts.url("/early-hints"))
		if out != "hinted" {
			t.Fatalf("body %q", out)
		}
		wantEarlyHints(t, responseLines(verbose), "HTTP/2 103", "HTTP/2 200")
	})
	t.Run("h2c upgrade", func(t *testing.T) {
		out, verbose := curl(t, nil, "-v", "--http2", ts.url("/early-hints"))
		if out != "hinted" {
			t.Fatalf("body %q", out)
		}
		wantEarlyHints(t, responseLines(verbose), "HTTP/2 103", "HTTP/2 200")
	})
	t.Run("keep-alive after hints", func(t *testing.T) {
		out, _ := curl(t, nil, "--http1.1", ts.url("/early-hints"), ts.url("/hello"))
		if out != "hintedHello, World!" {
			t.Fatalf("bodies %q", out)
		}
	})
}

// TestEarlyHintsNotForHTTP10: an HTTP/1.0 client gets the final response only.
func TestEarlyHintsNotForHTTP10(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	io.WriteString(c, "GET /early-hints HTTP/1.0\r\nHost: x\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "103") || !strings.HasPrefix(string(b), "HTTP/1.0 200 ") || !strings.HasSuffix(string(b), "hinted") {
		t.Fatalf("HTTP/1.0 response:\n%s", b)
	}
}

// TestEarlyHintAfterStartIsAppError: a hint after http.response.start fails with the
// ASGI order error; the response itself completes.
func TestEarlyHintAfterStartIsAppError(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	resp := roundTrip(t, c, br, "GET /early-hint-late HTTP/1.1\r\nHost: x\r\n\r\n", http.MethodGet)
	got := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(got, "Expected ASGI message 'http.response.body', but got 'http.response.early_hint'.") {
		t.Fatalf("status %d body %q", resp.StatusCode, got)
	}
	out := h2curl(t, "--http2-prior-knowledge", ts.url("/early-hint-late"))
	if !strings.Contains(out, "but got 'http.response.early_hint'") {
		t.Fatalf("h2: %q", out)
	}
}
