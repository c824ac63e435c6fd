package eventloop

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// addrApp answers every HTTP request with "client|server" and echoes WebSocket
// messages after a first one saying the same.
type addrApp struct{}

func fmtAddr(a *asgi.Addr) string {
	if a == nil {
		return "none"
	}
	return fmt.Sprintf("%s:%d", a.Host, a.Port)
}

func (addrApp) ServeASGI(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.HTTPScope:
		return respond(ctx, send, 200, fmtAddr(s.Client)+"|"+fmtAddr(s.Server)+"|"+s.HTTPVersion)
	case *asgi.WebSocketScope:
		if _, err := receive(ctx); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketAccept{}); err != nil {
			return err
		}
		if err := send(ctx, &asgi.WebSocketSend{Data: []byte(fmtAddr(s.Client)), Text: true}); err != nil {
			return err
		}
		for {
			m, err := receive(ctx)
			if err != nil {
				return err
			}
			r, ok := m.(*asgi.WebSocketReceive)
			if !ok {
				return nil
			}
			if err := send(ctx, &asgi.WebSocketSend{Data: r.Data, Text: r.Text}); err != nil {
				return err
			}
		}
	}
	return nil
}

func proxyV1(src, dst string) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	fam := "TCP4"
	if s.Addr().Is6() {
		fam = "TCP6"
	}
	return fmt.Appendf(nil, "PROXY %s %s %s %d %d\r\n", fam, s.Addr(), d.Addr(), s.Port(), d.Port())
}

func proxyV2(local bool, src, dst string) []byte {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c")
	if local {
		b[12], b[13], b[15] = 0x20, 0, 0
		return b
	}
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	s4, d4 := s.Addr().As4(), d.Addr().As4()
	b = append(append(b, s4[:]...), d4[:]...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, s.Port()), d.Port())
}

func startProxied(t *testing.T, cfg Config) *testServer {
	t.Helper()
	cfg.ProxyProtocol = true
	return startServer(t, cfg, addrApp{})
}

func TestProxyProtocolHTTP1(t *testing.T) {
	ts := startProxied(t, Config{})
	for name, hdr := range map[string][]byte{
		"v1":    proxyV1("192.0.2.7:4711", "198.51.100.1:443"),
		"v2":    proxyV2(false, "192.0.2.7:4711", "198.51.100.1:443"),
		"v1 v6": proxyV1("[2001:db8::7]:4711", "[2001:db8::1]:443"),
	} {
		t.Run(name, func(t *testing.T) {
			c := ts.dial(t)
			br := bufio.NewReader(c)
			// The header and the first request in one write, the second request later:
			// both see the header's addresses (keep-alive).
			resp := roundTrip(t, c, br, string(hdr)+"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
			want := "192.0.2.7:4711|198.51.100.1:443|1.1"
			if name == "v1 v6" {
				want = "2001:db8::7:4711|2001:db8::1:443|1.1"
			}
			if got := body(t, resp); got != want {
				t.Fatalf("first request: %q, want %q", got, want)
			}
			resp = roundTrip(t, c, br, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
			if got := body(t, resp); got != want {
				t.Fatalf("second request: %q, want %q", got, want)
			}
		})
	}
	t.Run("local", func(t *testing.T) {
		c := ts.dial(t)
		resp := roundTrip(t, c, bufio.NewReader(c), string(proxyV2(true, "", ""))+"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
		if got, want := body(t, resp), "127.0.0.1:"; !strings.HasPrefix(got, want) || !strings.Contains(got, "|"+ts.addr+"|") {
			t.Fatalf("LOCAL: %q, want the socket's addresses", got)
		}
	})
	t.Run("byte by byte", func(t *testing.T) {
		c := ts.dial(t)
		for _, b := range append(proxyV2(false, "192.0.2.9:1", "198.51.100.1:2"), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"...) {
			if _, err := c.Write([]byte{b}); err != nil {
				t.Fatal(err)
			}
		}
		if got := body(t, roundTrip(t, c, bufio.NewReader(c), "", "GET")); got != "192.0.2.9:1|198.51.100.1:2|1.1" {
			t.Fatalf("%q", got)
		}
	})
}

// expectClosed checks that the server closes c without a response.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read: %v", err)
	}
	if len(b) > 0 {
		t.Fatalf("got %q, want a close", b)
	}
}

func TestProxyProtocolRefusals(t *testing.T) {
	ts := startProxied(t, Config{HeaderTimeout: 300 * time.Millisecond})
	t.Run("no header", func(t *testing.T) {
		c := ts.dial(t)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		expectClosed(t, c)
		testutil.WaitFor(t, 2*time.Second, "the log line", func() bool {
			return strings.Contains(ts.logs.String(), "bad PROXY protocol header")
		})
	})
	t.Run("malformed", func(t *testing.T) {
		c := ts.dial(t)
		_, _ = io.WriteString(c, "PROXY TCP4 1.2.3.4 ::1 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
		expectClosed(t, c)
	})
	t.Run("timeout", func(t *testing.T) {
		c := ts.dial(t)
		_, _ = io.WriteString(c, "PROXY TCP4 1.2.3.4 ")
		start := time.Now()
		expectClosed(t, c)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("closed after %v", d)
		}
		testutil.WaitFor(t, 2*time.Second, "the log line", func() bool {
			return strings.Contains(ts.logs.String(), "PROXY protocol header timed out")
		})
	})

	untrusted := startServer(t, Config{ProxyProtocol: true, ProxyProtocolTrusted: func(netip.Addr) bool { return false }}, addrApp{})
	c := untrusted.dial(t)
	_, _ = c.Write(append(proxyV1("192.0.2.7:1", "192.0.2.8:2"), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"...))
	expectClosed(t, c)
	testutil.WaitFor(t, 2*time.Second, "the log line", func() bool {
		return strings.Contains(untrusted.logs.String(), "untrusted peer")
	})
}

// proxiedDial dials addr and writes hdr first.
func proxiedDial(addr string, hdr []byte) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write(hdr); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func TestProxyProtocolHTTP2AndWebSocket(t *testing.T) {
	ts := startProxied(t, Config{})
	hdr := proxyV2(false, "192.0.2.7:4711", "198.51.100.1:80")
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true) // prior knowledge
	tr := &http.Transport{Protocols: &protos, DialContext: func(context.Context, string, string) (net.Conn, error) {
		return proxiedDial(ts.addr, hdr)
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); got != "192.0.2.7:4711|198.51.100.1:80|2" {
		t.Fatalf("h2c prior knowledge: %q", got)
	}

	d := ws.Dialer{Timeout: 5 * time.Second, NetDial: func(context.Context, string, string) (net.Conn, error) {
		return proxiedDial(ts.addr, proxyV1("192.0.2.8:5000", "198.51.100.1:80"))
	}}
	c, br, _, err := d.Dial(context.Background(), "ws://"+ts.addr+"/ws")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := io.ReadWriter(c)
	if br != nil { // the first frame came with the handshake
		r = struct {
			io.Reader
			io.Writer
		}{io.MultiReader(br, c), c}
	}
	if m, err := wsutil.ReadServerText(r); err != nil || string(m) != "192.0.2.8:5000" {
		t.Fatalf("WebSocket scope client: %q %v", m, err)
	}
	if err := wsutil.WriteClientText(c, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m, err := wsutil.ReadServerText(r); err != nil || string(m) != "hi" {
		t.Fatalf("echo: %q %v", m, err)
	}
}

func TestProxyProtocolUWSGI(t *testing.T) {
	srv, _ := startListeners(t, Config{ProxyProtocol: true, UWSGIBinds: []string{"127.0.0.1:0"}}, addrApp{})
	addr := srv.Addrs()[0].String()
	hdr := proxyV2(false, "192.0.2.7:4711", "198.51.100.1:9000")
	// Without REMOTE_ADDR the header's client counts; with it, nginx's word does.
	got := uwsgiExchange(t, addr, append(hdr, uwsgiPacket(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/")...), "")
	if !strings.HasSuffix(got, "192.0.2.7:4711|198.51.100.1:9000|1.1") {
		t.Fatalf("without REMOTE_ADDR: %q", got)
	}
	got = uwsgiExchange(t, addr, append(hdr, uwsgiPacket(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/", "REMOTE_ADDR", "203.0.113.1", "REMOTE_PORT", "7")...), "")
	if !strings.HasSuffix(got, "203.0.113.1:7|198.51.100.1:9000|1.1") {
		t.Fatalf("with REMOTE_ADDR: %q", got)
	}
	got = uwsgiExchange(t, addr, uwsgiPacket(0, "REQUEST_METHOD", "GET", "PATH_INFO", "/"), "")
	if got != "" {
		t.Fatalf("without a PROXY header: %q, want a close", got)
	}
}

// TestProxyProtocolUnixSocket checks that a Unix socket peer, which has no address, is
// asked about as the zero netip.Addr: refused by the default (loopback) rule, served
// with a rule that admits it.
func TestProxyProtocolUnixSocket(t *testing.T) {
	dir := t.TempDir()
	exchange := func(path string) string {
		c, err := net.DialTimeout("unix", path, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write(append(proxyV1("192.0.2.7:4711", "198.51.100.1:443"), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"...))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	refusing := dir + "/refusing.sock"
	_, logs := startListeners(t, Config{ProxyProtocol: true, UnixSockets: []string{refusing}}, addrApp{})
	if got := exchange(refusing); got != "" {
		t.Fatalf("default rule: %q, want a close", got)
	}
	testutil.WaitFor(t, 2*time.Second, "the log line", func() bool { return strings.Contains(logs.String(), "untrusted peer") })

	admitting := dir + "/admitting.sock"
	startListeners(t, Config{ProxyProtocol: true, UnixSockets: []string{admitting},
		ProxyProtocolTrusted: func(a netip.Addr) bool { return !a.IsValid() }}, addrApp{})
	if got := exchange(admitting); !strings.HasSuffix(got, "192.0.2.7:4711|198.51.100.1:443|1.1") {
		t.Fatalf("admitted Unix peer: %q", got)
	}
}

// BenchmarkAcceptNativeTCPProxyProtocol is BenchmarkAcceptNativeTCP with
// --proxy-protocol: every connection starts with a v2 header in its first write.
//
//	go test -run '^$' -bench 'AcceptNativeTCP' -benchtime 20000x ./eventloop/
func BenchmarkAcceptNativeTCPProxyProtocol(b *testing.B) {
	srv := benchServer(b, Config{Binds: []string{"127.0.0.1:0"}, ProxyProtocol: true})
	benchConnectionsSending(b, "tcp", srv.Addrs()[0].String(), proxyV2(false, "192.0.2.7:4711", "198.51.100.1:443"))
}
