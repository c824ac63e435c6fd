package eventloop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// fileApp answers every request with a pathsend of file: /path by its path, /open
// with the open file handed over, /range?OFF-LEN with a part of it. inline makes it an
// asgi.Inliner (run on the loop).
type fileApp struct {
	file   string
	inline bool
}

func (a fileApp) Inline(asgi.Scope) bool { return a.inline }

func (a fileApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	s := scope.(*asgi.HTTPScope)
	info, err := os.Stat(a.file)
	if err != nil {
		return err
	}
	ps := &asgi.HTTPResponsePathsend{Path: a.file}
	n := info.Size()
	if s.Path == "/range" {
		off, length, _ := strings.Cut(string(s.QueryString), "-")
		ps.Offset, _ = strconv.ParseInt(off, 10, 64)
		ps.Length, _ = strconv.ParseInt(length, 10, 64)
		n = ps.Length
	}
	if s.Path != "/path" {
		if ps.File, err = os.Open(a.file); err != nil {
			return err
		}
	}
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H("content-length", strconv.FormatInt(n, 10))}); err != nil {
		if ps.File != nil {
			ps.File.Close()
		}
		return err
	}
	return send(ctx, ps)
}

// randomFile writes n random bytes to a file in a test directory.
func randomFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	p := filepath.Join(t.TempDir(), "file.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestSendfileSlowReader: a client reading at 4 MB/s gets every byte of an 8 MiB file
// sent with sendfile (by path or with the app's open file, from a goroutine or the
// loop), and a range of it.
func TestSendfileSlowReader(t *testing.T) {
	file, content := randomFile(t, 8<<20)
	for _, inline := range []bool{false, true} {
		ts := startServer(t, Config{}, fileApp{file: file, inline: inline})
		for _, path := range []string{"/path", "/open", "/range?1000003-5000000"} {
			t.Run(fmt.Sprintf("inline=%v%s", inline, path), func(t *testing.T) {
				want := content
				if path != "/path" && path != "/open" {
					want = content[1000003 : 1000003+5000000]
				}
				out, _ := curl(t, nil, "--limit-rate", "4M", ts.url(path))
				if got := []byte(out); len(got) != len(want) || sha(got) != sha(want) {
					t.Fatalf("%d bytes, sha256 %s; want %d bytes, %s", len(got), sha(got), len(want), sha(want))
				}
			})
		}
	}
}

// TestSendfilePipelined: responses sent with sendfile keep their order behind and
// ahead of the others on a connection (two pipelined requests, then HEAD).
func TestSendfilePipelined(t *testing.T) {
	file, content := randomFile(t, 3<<20)
	for _, inline := range []bool{false, true} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			ts := startServer(t, Config{}, fileApp{file: file, inline: inline})
			c := ts.dial(t)
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			req := "GET /open HTTP/1.1\r\nHost: x\r\n\r\nGET /range?5-10 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /path HTTP/1.1\r\nHost: x\r\n\r\n"
			if _, err := io.WriteString(c, req); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			for i, want := range [][]byte{content, content[5:15], nil} {
				method := "GET"
				if i == 2 {
					method = "HEAD"
				}
				resp, err := http.ReadResponse(br, &http.Request{Method: method})
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				if err != nil || !bytes.Equal(b, want) {
					t.Fatalf("response %d: %d bytes (%v), want %d", i, len(b), err, len(want))
				}
				if i == 2 && resp.ContentLength != int64(len(content)) {
					t.Fatalf("HEAD content-length %d", resp.ContentLength)
				}
			}
		})
	}
}

// TestSendfileTruncatedFile: a file that shrinks while it is being sent ends the
// connection (the client gets fewer bytes than announced); the server goes on.
func TestSendfileTruncatedFile(t *testing.T) {
	file, _ := randomFile(t, 32<<20)
	ts := startServer(t, Config{}, fileApp{file: file})
	c := ts.dial(t)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "GET /open HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, 1<<20); err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	if n+64<<10 >= 32<<20 {
		t.Fatalf("got the whole file (%d bytes) after truncating it", n+64<<10)
	}
	out, _ := curl(t, nil, ts.url("/path"))
	if len(out) != 1<<20 {
		t.Fatalf("after truncation: %d bytes", len(out))
	}
}

// TestPathsendTLSCopies: over TLS the body is encrypted, so it is copied, not sent
// with sendfile; the client gets the exact bytes, also for a range and the app's file.
func TestPathsendTLSCopies(t *testing.T) {
	file, content := randomFile(t, 2<<20)
	for _, inline := range []bool{false, true} {
		ts := startTLSServer(t, Config{}, fileApp{file: file, inline: inline})
		client := ts.client(false)
		for _, path := range []string{"/path", "/open", "/range?7-70000"} {
			want := content
			if strings.HasPrefix(path, "/range") {
				want = content[7 : 7+70000]
			}
			resp, err := client.Get(ts.url(path))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || sha(b) != sha(want) {
				t.Fatalf("inline=%v %s: %d bytes (%v), want %d", inline, path, len(b), err, len(want))
			}
		}
	}
}

// TestPathsendScopeAdvertisesSendfile: cleartext HTTP/1.1 scopes say that pathsend
// goes out with sendfile; HTTP/2 and TLS scopes do not.
func TestPathsendScopeAdvertisesSendfile(t *testing.T) {
	got := make(chan bool, 4)
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
		got <- asgi.PathsendZeroCopy(scope.(*asgi.HTTPScope))
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 204}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{})
	})
	ts := startTLSServer(t, Config{}, app)
	curl(t, nil, "http://"+ts.plain+"/")
	curl(t, nil, "--http2-prior-knowledge", "http://"+ts.plain+"/")
	curl(t, nil, "--cacert", ts.caFile, "https://localhost"+ts.addr[strings.LastIndex(ts.addr, ":"):]+"/")
	for i, want := range []bool{true, false, false} {
		if g := <-got; g != want {
			t.Errorf("request %d: zero copy %v, want %v", i, g, want)
		}
	}
}

// TestSendfileNonReadingClient: a client that asks for a large file sent with sendfile
// and never reads is closed after the send timeout, as for any other output; the
// server holds none of the file meanwhile and serves the next client.
func TestSendfileNonReadingClient(t *testing.T) {
	file, _ := randomFile(t, 64<<20)
	ts := startServer(t, Config{SendTimeout: 300 * time.Millisecond}, fileApp{file: file, inline: true})
	c := ts.dial(t)
	if _, err := io.WriteString(c, "GET /open HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the server to give up on the client", func() bool {
		return strings.Contains(ts.logs.String(), "client stopped reading")
	})
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) || n >= 64<<20 {
		t.Fatalf("read %d bytes then %v; want the connection closed", n, err)
	}
	if out, _ := curl(t, nil, ts.url("/range?0-10")); len(out) != 10 {
		t.Fatalf("next client: %d bytes", len(out))
	}
}

// TestSendfileUWSGI: a uwsgi response (plain HTTP/1.0 on the connection) sends its
// pathsend body with sendfile too; the connection closes once it is written.
func TestSendfileUWSGI(t *testing.T) {
	file, content := randomFile(t, 3<<20)
	srv, _ := startListeners(t, Config{UWSGIBinds: []string{"127.0.0.1:0"}}, fileApp{file: file, inline: true})
	got := uwsgiExchange(t, srv.Addrs()[0].String(), uwsgiPacket(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/open",
		"REQUEST_URI", "/open", "SERVER_PROTOCOL", "HTTP/1.1"), "")
	head, body, _ := strings.Cut(got, "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.0 200") || sha([]byte(body)) != sha(content) {
		t.Fatalf("head %q, %d body bytes, want %d", head, len(body), len(content))
	}
}

// TestSendfileSlowReaderMemory: while a client reads a 64 MiB file slowly, the
// server's heap does not grow with the file (the file is never read into memory).
func TestSendfileSlowReaderMemory(t *testing.T) {
	file, _ := randomFile(t, 64<<20)
	ts := startServer(t, Config{}, fileApp{file: file, inline: true})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := ts.dial(t)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "GET /open HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	read := 0
	for range 10 {
		n, err := io.ReadAtLeast(c, buf, len(buf))
		if err != nil {
			t.Fatal(err)
		}
		read += n
		time.Sleep(50 * time.Millisecond)
	}
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	if grew := int64(during.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Fatalf("heap grew by %d MiB while a client read %d KiB of a 64 MiB file", grew>>20, read>>10)
	}
}
