package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testcerts"
	"github.com/asgo-dev/asgo/internal/testutil"
)

// TLS listeners keep TLS when they are handed to another process: a zero-downtime
// upgrade's new process and a supervisor's workers serve https on the TLS bind and
// cleartext on the other, with the same certificate.

// tlsArgs returns serve's arguments for a cleartext bind and a TLS bind on free ports.
func tlsArgs(t *testing.T, s *testcerts.Set) (args []string, clear, secure string) {
	clear = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	secure = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	return []string{"serve", "--loops", "1", "--bind", clear, "--ssl-bind", secure,
		"--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKey}, clear, secure
}

// expectBoth checks https on secure (HTTP/2 and HTTP/1.1) and http on clear.
func expectBoth(t *testing.T, s *testcerts.Set, clear, secure, when string) {
	t.Helper()
	for _, v := range []string{"--http2", "--http1.1"} {
		out, err := curlTLS("https://"+secure+"/", "--cacert", s.CACert, v)
		if err != nil || out != "Hello, World!" {
			t.Errorf("%s: https %s: %v %q", when, v, err, out)
		}
	}
	if out, err := curlTLS("http://" + clear + "/"); err != nil || out != "Hello, World!" {
		t.Errorf("%s: http: %v %q", when, err, out)
	}
}

func TestTLSListenersSurviveAnUpgrade(t *testing.T) {
	s := testcerts.Generate(t)
	args, clear, secure := tlsArgs(t, s)
	p := startLogged(t, asgoBin, args...)
	p.waitLog(t, "https://"+secure, 1)
	expectBoth(t, s, clear, secure, "before the upgrade")
	p.signal(t, syscall.SIGUSR2)
	p.waitLog(t, "new process is ready", 1)
	p.waitExit(t, 30*time.Second)
	newPid := p.newPid(t, 1)
	t.Cleanup(func() { _ = syscall.Kill(newPid, syscall.SIGKILL) })
	expectBoth(t, s, clear, secure, "after the upgrade")
	if strings.Contains(p.logs(), "TLS handshake") && strings.Contains(p.logs(), "level=ERROR") {
		t.Errorf("errors in the log:\n%s", p.logs())
	}
	_ = syscall.Kill(newPid, syscall.SIGTERM)
	testutil.WaitFor(t, 20*time.Second, "the new process's exit", func() bool { return !alive(newPid) })
}

func TestTLSListenersServedByWorkers(t *testing.T) {
	s := testcerts.Generate(t)
	args, clear, secure := tlsArgs(t, s)
	p := startLogged(t, asgoBin, append(args, "--workers", "2")...)
	p.waitLog(t, "all workers ready", 1)
	for i := range 4 { // new connections, spread over the workers by the kernel
		expectBoth(t, s, clear, secure, fmt.Sprintf("request %d", i))
	}
	p.signal(t, syscall.SIGTERM)
	p.waitExit(t, 20*time.Second)
}

// TestTLSBehindHAProxySendProxy: haproxy in TCP mode passes TLS through with a PROXY v2
// header first; asgo reads the header, then does the handshake, and the scope's client
// is haproxy's client.
func TestTLSBehindHAProxySendProxy(t *testing.T) {
	s := testcerts.Generate(t)
	a := startTLS(t, "--proxy-protocol", "--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKey)
	h := startHAProxy(t, a.tls, "send-proxy-v2")
	for _, v := range []string{"--http2", "--http1.1"} {
		out, err := curlTLS("https://"+h.addr+"/scope", "--cacert", s.CACert, v, "--interface", haClientIP)
		if err != nil {
			t.Fatalf("%s through haproxy: %v %s", v, err, out)
		}
		if !strings.Contains(out, `"scheme":"https"`) || !strings.Contains(out, `"client":["`+haClientIP+`",`) {
			t.Errorf("%s: the scope does not name the TLS client %s:\n%s", v, haClientIP, out)
		}
	}
	if strings.Contains(a.logs(), "bad PROXY") {
		t.Errorf("asgo refused haproxy's header:\n%s", a.logs())
	}
}
