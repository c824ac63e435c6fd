package eventloop

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// A refused upload must reach the client as the 413, then EOF. Closing with the
// upload's next bytes unread in the kernel sends a reset instead of a FIN: the client's
// next read then fails, and the reset can destroy the response before it is read.
func TestLingeringCloseDeliversRefusalToClientStillSending(t *testing.T) {
	ts := startServer(t, Config{MaxBodyBytes: 1 << 10}, nil)
	for i := 0; i < 5; i++ {
		c := ts.dial(t)
		upload := append([]byte("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 67108864\r\n\r\n"),
			bytes.Repeat([]byte("a"), 256<<10)...)
		if _, err := c.Write(upload); err != nil {
			t.Fatal(err)
		}
		// The scenario, not synchronisation: the client reads only after the server has
		// answered and closed (reading at once would not exercise the reset).
		time.Sleep(50 * time.Millisecond)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			body(t, resp)
			_, err = br.ReadByte()
		}
		if resp == nil || resp.StatusCode != 413 || err != io.EOF {
			t.Fatalf("round %d: response %v, then %v; want 413, then EOF", i, resp, err)
		}
	}
}

// An HTTP/2 client that keeps sending after its GOAWAY (h2spec 3.8/1 sends a PING
// right behind it) must see the server's answer end in EOF, not in a reset.
func TestLingeringCloseAfterPeerGoAway(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	ping := "\x00\x00\x08\x06\x00\x00\x00\x00\x00h2spec\x00\x00"
	for i := 0; i < 5; i++ {
		c := ts.dial(t)
		if _, err := io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"+
			"\x00\x00\x00\x04\x00\x00\x00\x00\x00"+ // SETTINGS
			"\x00\x00\x08\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"+ // GOAWAY 0 NO_ERROR
			strings.Repeat(ping, 16000)); err != nil { // more than the server reads at once
			t.Fatal(err)
		}
		// The scenario, as above: the client reads after the server answered and closed.
		time.Sleep(50 * time.Millisecond)
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("round %d: reading to the end: %v, want EOF", i, err)
		}
	}
}

// Lingering ends at the client's EOF, or after LingerTimeout for a client that never
// closes; the connection then no longer counts.
func TestLingeringEndsAtClientEOFOrTimeout(t *testing.T) {
	ts := startServer(t, Config{LingerTimeout: 300 * time.Millisecond}, nil)
	waitConns := func(want int, within time.Duration) {
		t.Helper()
		testutil.WaitFor(t, within, fmt.Sprintf("%d connections", want), func() bool { return ts.Connections() == want })
	}
	closeRequest := "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

	c := ts.dial(t)
	if _, err := io.WriteString(c, closeRequest); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || !strings.HasSuffix(string(b), "Hello, World!") {
		t.Fatalf("response %q, %v", b, err)
	}
	c.Close()
	waitConns(0, 100*time.Millisecond) // well before the linger timeout

	stays := ts.dial(t)
	if _, err := io.WriteString(stays, closeRequest); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(stays); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitConns(0, 2*time.Second)
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Fatalf("closed after %v although the client kept its end open (linger 300ms)", waited)
	}
}
