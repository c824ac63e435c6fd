package main

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// TestUWSGI64MiBPostStreamedWithBoundedMemory posts 64 MiB through nginx's uwsgi_pass
// (request and response buffering off) to asgo's uwsgi listener, over TCP and a Unix
// socket, to the demo's /sum, which hashes the body as it arrives: the body streams
// through asgo, so its peak RSS stays far below the body's size.
func TestUWSGI64MiBPostStreamedWithBoundedMemory(t *testing.T) {
	const size = 64 << 20
	for _, bind := range []string{"127.0.0.1:0", "unix:" + filepath.Join(t.TempDir(), "uwsgi.sock")} {
		t.Run(strings.SplitN(bind, ":", 2)[0], func(t *testing.T) {
			p, n := uwsgiSetup(t, bind)
			c := ngxClient(t)
			before := peakRSS(t, p.cmd.Process.Pid)
			// A generated body, hashed as it goes: the client holds none of it either.
			src := io.LimitReader(rand.Reader, size)
			sent := sha256.New()
			req := newReq(t, "POST", n.url("/sum"), io.TeeReader(src, sent))
			req.ContentLength = size
			resp, body := do(t, c, req)
			if want := fmt.Sprintf("%d %x\n", size, sent.Sum(nil)); resp.StatusCode != 200 || string(body) != want {
				t.Fatalf("POST /sum of 64 MiB = %d %q, want %q", resp.StatusCode, body, want)
			}
			peak := peakRSS(t, p.cmd.Process.Pid)
			t.Logf("asgo's peak RSS: %d MiB before, %d MiB after streaming 64 MiB through uwsgi", before>>20, peak>>20)
			if peak > 48<<20 {
				t.Errorf("peak RSS %d MiB: the 64 MiB body was held in memory", peak>>20)
			}
			n.assertNoUpstreamErrors(t)
		})
	}
}
