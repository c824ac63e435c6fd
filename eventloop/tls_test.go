package eventloop

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// TestTLSTemporaryReadError checks the crypto/tls behaviour the loop's decryption
// relies on: a Read of the underlying connection that fails with a Temporary
// net.Error is returned without poisoning the tls.Conn, so the next Read continues.
func TestTLSTemporaryReadError(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "src", "crypto", "tls", "conn.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := "if e, ok := err.(net.Error); !ok || !e.Temporary() {"
	if n := strings.Count(string(src), want); n < 2 {
		t.Fatalf("crypto/tls/conn.go has %d readers that spare Temporary errors, want 2 (%q): "+
			"the loop's TLS decryption (tls.go) depends on it", n, want)
	}
}

func TestTLSHTTP1AndHTTP2(t *testing.T) {
	ts := startTLSServer(t, Config{}, nil)
	for _, h2 := range []bool{false, true} {
		c := ts.client(h2)
		for i := 0; i < 3; i++ {
			resp, err := c.Get(ts.url("/hello"))
			if err != nil {
				t.Fatal(err)
			}
			if b := body(t, resp); b != "Hello, World!" {
				t.Fatalf("body %q", b)
			}
			if want := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != want {
				t.Fatalf("h2=%v: protocol %s", h2, resp.Proto)
			}
		}
		payload := bytes.Repeat([]byte("0123456789"), 100000)
		resp, err := c.Post(ts.url("/echo"), "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		if b := body(t, resp); b != string(payload) {
			t.Fatalf("h2=%v: echo of %d bytes gave %d", h2, len(payload), len(b))
		}
	}
	// The cleartext listener still speaks cleartext.
	resp, err := http.Get("http://" + ts.plain + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); b != "Hello, World!" {
		t.Fatalf("cleartext body %q", b)
	}
	if st := ts.TLSStats(); st.Handshakes != 2 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTLSScope checks the scheme and the ASGI tls extension.
func TestTLSScope(t *testing.T) {
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
		s := scope.(*asgi.HTTPScope)
		ext, _ := s.Extensions[asgi.ExtTLS].(map[string]any)
		cert, _ := ext["server_cert"].(string)
		return respond(ctx, send, 200, fmt.Sprintf("%s %s %#x %v %v %d", s.Scheme, s.HTTPVersion,
			ext["tls_version"], ext["cipher_suite"] != 0, strings.HasPrefix(cert, "-----BEGIN CERTIFICATE"),
			len(ext["client_cert_chain"].([]any))))
	})
	ts := startTLSServer(t, Config{}, app)
	for h2, want := range map[bool]string{false: "https 1.1 0x304 true true 0", true: "https 2 0x304 true true 0"} {
		resp, err := ts.client(h2).Get(ts.url("/"))
		if err != nil {
			t.Fatal(err)
		}
		if b := body(t, resp); b != want {
			t.Fatalf("h2=%v: %q, want %q", h2, b, want)
		}
	}
}

// TestTLSGarbageClientClosed: a client that does not speak TLS is closed, logged at
// debug level and counted, and the server keeps serving others.
func TestTLSGarbageClientClosed(t *testing.T) {
	ts := startTLSServer(t, Config{}, nil)
	c := ts.dialTCP(t)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("not closed: %v", err)
	}
	if bytes.Contains(b, []byte("HTTP/1.1")) {
		t.Fatalf("answered in cleartext: %q", b)
	}
	testutil.WaitFor(t, 5*time.Second, "the failed handshake counted", func() bool { return ts.TLSStats().Failed == 1 })
	if logs := ts.logs.String(); !strings.Contains(logs, "TLS handshake failed") || strings.Contains(logs, "goroutine ") {
		t.Fatalf("log:\n%s", logs)
	}
	resp, err := ts.client(true).Get(ts.url("/hello"))
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); b != "Hello, World!" {
		t.Fatalf("body %q", b)
	}
}

// TestTLSHandshakeTimeout: a client that stops in the middle of its handshake (or
// never starts it) is closed after HandshakeTimeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	ts := startTLSServer(t, Config{HandshakeTimeout: 300 * time.Millisecond}, nil)
	silent := ts.dialTCP(t)
	partial := ts.dialTCP(t)
	if _, err := partial.Write([]byte{0x16, 0x03, 0x01, 0x01, 0x00, 0x01}); err != nil { // a record header, then nothing
		t.Fatal(err)
	}
	start := time.Now()
	for _, c := range []net.Conn{silent, partial} {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("not closed: %v", err)
		}
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("closed after %v", d)
	}
	testutil.WaitFor(t, 5*time.Second, "both timeouts counted", func() bool { return ts.TLSStats().TimedOut == 2 })
	testutil.WaitFor(t, 5*time.Second, "connections released", func() bool { return ts.Connections() == 0 })
}

// TestTLSMaxConnections: TLS connections count against MaxConnections; one beyond it
// is closed without an answer.
func TestTLSMaxConnections(t *testing.T) {
	ts := startTLSServer(t, Config{MaxConnections: 1}, nil)
	c := ts.client(false)
	resp, err := c.Get(ts.url("/hello"))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	_, err = tls.Dial("tcp", ts.addr, ts.certs.clientConfig())
	if err == nil {
		t.Fatal("second TLS connection accepted beyond MaxConnections")
	}
}

// recordingConn keeps every byte read from the server.
type recordingConn struct {
	net.Conn
	raw bytes.Buffer
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.raw.Write(p[:n])
	return n, err
}

// TestTLSCloseNotify: a connection the server ends gracefully (Connection: close)
// ends with a close_notify alert after the response. TLS 1.2, whose alerts are
// visible as such on the wire.
func TestTLSCloseNotify(t *testing.T) {
	ts := startTLSServer(t, Config{}, nil)
	rc := &recordingConn{Conn: ts.dialTCP(t)}
	cfg := ts.certs.clientConfig("http/1.1")
	cfg.MaxVersion = tls.VersionTLS12
	c := tls.Client(rc, cfg)
	if _, err := io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("Hello, World!")) {
		t.Fatalf("response %q", b)
	}
	// Walk the records: the last one is an alert (content type 21).
	raw, last := rc.raw.Bytes(), byte(0)
	for len(raw) >= 5 {
		n := int(raw[3])<<8 | int(raw[4])
		if len(raw) < 5+n {
			t.Fatalf("truncated record")
		}
		last, raw = raw[0], raw[5+n:]
	}
	if last != 21 {
		t.Fatalf("last record type %d, want 21 (alert: close_notify)", last)
	}
}

// TestTLSClientCertChain: a verified client certificate reaches the app in the tls
// extension's client_cert_chain, as PEM.
func TestTLSClientCertChain(t *testing.T) {
	certs := makeTestCerts(t)
	cfg := certs.serverConfig()
	cfg.ClientAuth = tls.RequireAndVerifyClientCert
	cfg.ClientCAs = certs.pool
	app := asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
		ext := scope.(*asgi.HTTPScope).Extensions[asgi.ExtTLS].(map[string]any)
		chain := ext["client_cert_chain"].([]any)
		first, _ := chain[0].(string)
		return respond(ctx, send, 200, fmt.Sprintf("%d %v", len(chain), strings.HasPrefix(first, "-----BEGIN CERTIFICATE")))
	})
	ts := startTLSServer(t, Config{TLS: cfg}, app)
	ccfg := ts.certs.clientConfig()
	ccfg.RootCAs = certs.pool
	ccfg.Certificates = []tls.Certificate{certs.client}
	resp, err := tlsClient(ccfg, true).Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); b != "1 true" {
		t.Fatalf("got %q", b)
	}
	// Without a certificate the handshake fails, and is counted.
	ccfg.Certificates = nil
	if _, err := tlsClient(ccfg, true).Get(ts.url("/")); err == nil {
		t.Fatal("served a client without a certificate")
	}
	testutil.WaitFor(t, 5*time.Second, "the failed handshake counted", func() bool { return ts.TLSStats().Failed == 1 })
}

func TestFirstTLSBind(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		cfg  Config
		want int
	}{
		{"default bind with systemd on (asgo serve without flags)", 1, Config{Systemd: true}, 1},
		{"cleartext and TLS", 2, Config{Binds: []string{"a"}, TLSBinds: []string{"b"}}, 1},
		{"TLS only", 2, Config{TLSBinds: []string{"a", "b"}}, 0},
		{"placeholder beside adopted listeners", 1, Config{UnixSockets: []string{"/s"}}, 1},
		{"inherited", 1, Config{TLSBinds: []string{"a"}, Inherited: []InheritedListener{{FD: 3}}}, 1},
	} {
		if got := firstTLSBind(tc.n, tc.cfg); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
