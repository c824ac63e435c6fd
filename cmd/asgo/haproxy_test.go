package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// These tests put a real haproxy (Debian's) in front of asgo as an L4 load balancer
// (mode tcp) that tells asgo the client's address with the PROXY protocol:
// send-proxy-v2 (binary) and send-proxy (v1, text). The client connects to haproxy
// from 127.0.0.2, haproxy to asgo from 127.0.0.1, so the scope shows which one asgo
// believed.

const haClientIP = "127.0.0.2"

// haProxy is a running haproxy in the foreground.
type haProxy struct {
	addr string // 127.0.0.1:PORT haproxy listens on
	cmd  *exec.Cmd
	out  *testutil.LogBuffer
	done chan error
}

func haproxyBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	t.Fatal("haproxy is not installed (neither on PATH nor /usr/sbin/haproxy): `make deps` installs it (Debian package haproxy)")
	return ""
}

// haproxyConf is a tcp-mode haproxy forwarding {{listen}} to {{server}} with the
// server options given (send-proxy-v2 or send-proxy, and a health check).
const haproxyConf = `global
    maxconn 200
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind %s
    default_backend be
backend be
    server asgo %s %s
`

// startHAProxy runs haproxy in front of upstream with the given server options and
// waits until it accepts connections; a port lost to another process is retried.
func startHAProxy(t *testing.T, upstream, serverOpts string) *haProxy {
	t.Helper()
	bin := haproxyBinary(t)
	dir := t.TempDir()
	for attempt := 0; ; attempt++ {
		h := &haProxy{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), out: &testutil.LogBuffer{}, done: make(chan error, 1)}
		conf := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(conf, fmt.Appendf(nil, haproxyConf, h.addr, upstream, serverOpts), 0o644); err != nil {
			t.Fatal(err)
		}
		h.cmd = exec.Command(bin, "-db", "-f", conf) // -db: foreground, no daemon
		h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
		h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := h.cmd.Start(); err != nil {
			t.Fatalf("starting haproxy: %v", err)
		}
		go func() { h.done <- h.cmd.Wait() }()
		err := h.waitReady(10 * time.Second)
		if err == nil {
			t.Cleanup(func() {
				h.stop()
				if t.Failed() {
					t.Logf("haproxy output:\n%s", h.out.String())
				}
			})
			return h
		}
		h.stop()
		if attempt == 2 || !strings.Contains(h.out.String(), "Address already in use") {
			t.Fatalf("haproxy did not start: %v\n%s", err, h.out.String())
		}
	}
}

func (h *haProxy) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-h.done:
			h.done <- err
			return fmt.Errorf("haproxy exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", h.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("haproxy did not listen on %s within %v", h.addr, limit)
}

func (h *haProxy) stop() {
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-h.done:
		h.done <- err
		return
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	<-h.done
}

func (h *haProxy) url(path string) string { return "http://" + h.addr + path }

// dumpSeen is the part of /scope's JSON these tests look at.
type dumpSeen struct {
	HTTPVersion string `json:"http_version"`
	Client      []any  `json:"client"`
	Server      []any  `json:"server"`
}

func (d dumpSeen) host(a []any) string {
	if len(a) != 2 {
		return "<none>"
	}
	s, _ := a[0].(string)
	return fmt.Sprintf("%s:%v", s, a[1])
}

func getDump(t *testing.T, c *http.Client, url string) dumpSeen {
	t.Helper()
	resp, body := do(t, c, newReq(t, "GET", url, nil))
	var d dumpSeen
	if err := json.Unmarshal(body, &d); resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET %s = %d %v\n%s", url, resp.StatusCode, err, body)
	}
	return d
}

// clientConnFrom is an HTTP/1.1 (or, with h2c, prior-knowledge HTTP/2) client whose
// connections come from ip; it records the local address of the last connection.
func clientConnFrom(t *testing.T, ip string, h2c bool, last *string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DisableCompression: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err == nil {
			*last = c.LocalAddr().String()
		}
		return c, err
	}}
	if h2c {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr.Protocols = &p
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ngxTimeout}
}

func TestHAProxySendProxy(t *testing.T) {
	p := startAsgo(t, "--proxy-protocol")
	for _, opt := range []string{"send-proxy-v2", "send-proxy"} {
		t.Run(opt, func(t *testing.T) {
			h := startHAProxy(t, p.addr, opt+" check check-send-proxy inter 200ms")
			var local string
			for _, h2 := range []bool{false, true} {
				c := clientConnFrom(t, haClientIP, h2, &local)
				for i := range 2 { // two requests on one kept-alive connection
					d := getDump(t, c, h.url("/scope"))
					wantVersion := map[bool]string{false: "1.1", true: "2"}[h2]
					if got := d.host(d.Client); got != local || d.HTTPVersion != wantVersion {
						t.Errorf("h2c %v #%d: client %s http_version %s, want %s (the client's own address) %s", h2, i, got, d.HTTPVersion, local, wantVersion)
					}
					if got := d.host(d.Server); got != h.addr {
						t.Errorf("h2c %v #%d: server %s, want %s (haproxy's frontend)", h2, i, got, h.addr)
					}
				}
			}
			ws := wsDial(t, h.addr, "/ws")
			msg := patternBody(t, 70_000)
			if err := ws.writeFrame(wsOpBinary, msg); err != nil {
				t.Fatal(err)
			}
			ws.expectMessage(t, wsOpBinary, msg)
			ws.closeHandshake(t)
		})
	}
	// The access log names the client the header named too.
	if !strings.Contains(p.logs(), `msg="`+haClientIP+`:`) {
		t.Errorf("no access-log line names %s:\n%s", haClientIP, p.logs())
	}
	// haproxy's health checks (check-send-proxy: a v2 LOCAL header, or a v1 line
	// naming the check's own connection, then a close) never make asgo log a bad
	// header.
	if strings.Contains(p.logs(), "bad PROXY") || strings.Contains(p.logs(), "untrusted") {
		t.Errorf("asgo refused a connection of haproxy's:\n%s", p.logs())
	}

	// Without a header, straight to asgo: closed, with a log line.
	c, err := net.DialTimeout("tcp", p.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, _ := io.ReadAll(c); len(b) > 0 {
		t.Errorf("a connection without a PROXY header got %q, want a close", b)
	}
	testutil.WaitFor(t, 5*time.Second, "the log line of the missing header", func() bool {
		return strings.Contains(p.logs(), "bad PROXY protocol header")
	})
}

func TestHAProxyUntrustedSourceIsClosed(t *testing.T) {
	// haproxy connects from 127.0.0.1, which is not in the trusted set.
	p := startAsgo(t, "--proxy-protocol", "--forwarded-allow-ips", "10.9.9.9")
	h := startHAProxy(t, p.addr, "send-proxy-v2")
	var local string
	c := clientConnFrom(t, haClientIP, false, &local)
	resp, err := c.Get(h.url("/scope"))
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("through haproxy from an untrusted source: %d %q, want the connection closed", resp.StatusCode, b)
	}
	testutil.WaitFor(t, 5*time.Second, "the log line of the untrusted peer", func() bool {
		return strings.Contains(p.logs(), "PROXY protocol: connection from an untrusted peer")
	})
}

// TestNginxThenHAProxyThenAsgo chains both proxies: the client talks to nginx from
// 127.0.0.2, nginx (adding X-Forwarded-For) to haproxy, haproxy (send-proxy-v2) to
// asgo. The PROXY header names nginx (127.0.0.1, trusted), so its X-Forwarded-For is
// believed next: the scope's client is the real one. The header comes first, the
// proxy headers apply on top.
func TestNginxThenHAProxyThenAsgo(t *testing.T) {
	p := startAsgo(t, "--proxy-protocol")
	h := startHAProxy(t, p.addr, "send-proxy-v2")
	n := startNginx(t, h.addr)
	s := getScope(t, clientFrom(t, ngxClientIP), n.url("/scope"))
	if s.clientHost() != ngxClientIP {
		t.Errorf("client %v, want %s", s.Client, ngxClientIP)
	}
	// Straight to haproxy from 127.0.0.2: the header names 127.0.0.2, which is not
	// trusted, so a forged X-Forwarded-For changes nothing.
	s = getScope(t, clientFrom(t, ngxClientIP), h.url("/scope"), "X-Forwarded-For", "203.0.113.7")
	if s.clientHost() != ngxClientIP {
		t.Errorf("forged X-Forwarded-For through haproxy: client %v, want %s", s.Client, ngxClientIP)
	}
}
