package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testcerts"
	"github.com/asgo-dev/asgo/internal/testutil"
)

// TLS configuration end to end (the --ssl-* flags, client certificates, reload,
// --ssl-self-signed, --ssl-bind beside a cleartext --bind) against the real binary, with
// curl, openssl s_client and Go's crypto/tls as clients. Certificates are made with
// openssl at test time (internal/testcerts).

// tlsAsgo is an `asgo serve` with a TLS listener on tls (and maybe a cleartext one).
type tlsAsgo struct {
	*proc
	tls string // HOST:PORT of the TLS listener
}

// startTLS runs `asgo serve --ssl-bind 127.0.0.1:PORT --bind 127.0.0.1:0 args...` and
// waits until the TLS listener is logged too.
func startTLS(t *testing.T, args ...string) *tlsAsgo {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startAsgo(t, append([]string{"--ssl-bind", addr}, args...)...)
	testutil.WaitFor(t, 10*time.Second, "the TLS listener's log line", func() bool {
		return strings.Contains(p.logs(), "https://"+addr)
	})
	return &tlsAsgo{proc: p, tls: addr}
}

// startTLSOnly runs asgo with args, whose only listener is the TLS one on addr (so
// there is no cleartext "listening" line for startProc), and waits for its line.
func startTLSOnly(t *testing.T, addr string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(asgoBin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), addr: addr}
	go func() {
		_, _ = io.Copy(&p.log, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("asgo log:\n%s", p.logs())
		}
	})
	testutil.WaitFor(t, 10*time.Second, "the TLS listener's log line", func() bool {
		return strings.Contains(p.logs(), "https://"+addr)
	})
	return p
}

func (a *tlsAsgo) url(path string) string { return "https://" + a.tls + path }

// curlTLS runs curl with args against url and returns its output and error.
func curlTLS(url string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", append(append([]string{"-sS", "--max-time", "10"}, args...), url)...).CombinedOutput()
	return string(out), err
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTLSClientCertRequired: with --ssl-cert-reqs required, curl with a certificate of
// the CA gets the answer over HTTP/1.1 and HTTP/2; without one the handshake fails with
// an alert; with another CA's certificate it is refused.
func TestTLSClientCertRequired(t *testing.T) {
	s := testcerts.Generate(t)
	a := startTLS(t, "--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKey, "--ssl-ca-certs", s.CACert, "--ssl-cert-reqs", "required")
	good := []string{"--cacert", s.CACert, "--cert", s.ClientCert, "--key", s.ClientKey}
	for _, proto := range []struct{ flag, want string }{{"--http1.1", "1.1"}, {"--http2", "2"}} {
		out, err := curlTLS(a.url("/"), append(good, proto.flag, "-w", " %{http_version}")...)
		if err != nil || out != "Hello, World! "+proto.want {
			t.Fatalf("curl %s with a client certificate: %v\n%s", proto.flag, err, out)
		}
	}
	for _, maxVersion := range []string{"1.2", "1.3"} {
		out, err := curlTLS(a.url("/"), "--cacert", s.CACert, "--tls-max", maxVersion)
		if err == nil {
			t.Fatalf("TLS %s without a client certificate succeeded: %s", maxVersion, out)
		}
		if maxVersion == "1.2" && !strings.Contains(out, "alert") {
			t.Errorf("TLS 1.2 without a client certificate: want a handshake failure alert, got %s", out)
		}
		if out, err := curlTLS(a.url("/"), "--cacert", s.CACert, "--tls-max", maxVersion, "--cert", s.WrongClientCert, "--key", s.WrongClientKey); err == nil {
			t.Fatalf("TLS %s with another CA's client certificate succeeded: %s", maxVersion, out)
		}
	}
	// The server still serves after the refusals.
	if out, err := curlTLS(a.url("/"), good...); err != nil || out != "Hello, World!" {
		t.Fatalf("after the refusals: %v %s", err, out)
	}
}

// tlsExt is the scope's tls extension as apps/scopedump renders it.
type tlsExt struct {
	ServerCert      *string  `json:"server_cert"`
	ClientCertChain []string `json:"client_cert_chain"`
	TLSVersion      *int     `json:"tls_version"`
	CipherSuite     *int     `json:"cipher_suite"`
}

func scopeTLS(t *testing.T, body string) (scheme string, ext tlsExt) {
	t.Helper()
	var d struct {
		Scheme     string `json:"scheme"`
		Extensions struct {
			TLS *tlsExt `json:"tls"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	if d.Extensions.TLS == nil {
		t.Fatalf("no tls extension in the scope: %s", body)
	}
	return d.Scheme, *d.Extensions.TLS
}

// TestTLSClientCertOptionalScope: with --ssl-cert-reqs optional, curl without a
// certificate is served and its scope's tls extension has an empty client chain; with
// one, the chain starts with it (PEM); another CA's certificate is refused. The version
// and suite are the ones negotiated (TLS 1.2 forced, one suite allowed).
func TestTLSClientCertOptionalScope(t *testing.T) {
	s := testcerts.Generate(t)
	a := startTLS(t, "--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKey, "--ssl-ca-certs", s.CACert,
		"--ssl-cert-reqs", "optional", "--ssl-ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384")
	out, err := curlTLS(a.url("/scope"), "--cacert", s.CACert)
	if err != nil {
		t.Fatalf("without a client certificate: %v\n%s", err, out)
	}
	scheme, ext := scopeTLS(t, out)
	if scheme != "https" || len(ext.ClientCertChain) != 0 || ext.TLSVersion == nil || *ext.TLSVersion != tls.VersionTLS13 {
		t.Fatalf("scope without a client certificate: scheme %q, %+v", scheme, ext)
	}
	out, err = curlTLS(a.url("/scope"), "--cacert", s.CACert, "--cert", s.ClientCert, "--key", s.ClientKey, "--tls-max", "1.2")
	if err != nil {
		t.Fatalf("with a client certificate: %v\n%s", err, out)
	}
	_, ext = scopeTLS(t, out)
	clientPEM, _ := os.ReadFile(s.ClientCert)
	if len(ext.ClientCertChain) == 0 || strings.TrimSpace(ext.ClientCertChain[0]) != strings.TrimSpace(string(clientPEM)) {
		t.Fatalf("client_cert_chain %q, want the client certificate first:\n%s", ext.ClientCertChain, clientPEM)
	}
	if ext.TLSVersion == nil || *ext.TLSVersion != tls.VersionTLS12 || ext.CipherSuite == nil || *ext.CipherSuite != int(tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) {
		t.Fatalf("version/suite %+v, want TLS 1.2 and ECDHE-ECDSA-AES256-GCM-SHA384", ext)
	}
	if out, err := curlTLS(a.url("/scope"), "--cacert", s.CACert, "--cert", s.WrongClientCert, "--key", s.WrongClientKey); err == nil {
		t.Fatalf("another CA's client certificate was accepted: %s", out)
	}
}

// TestTLSReloadOnSIGHUP: swap the files, SIGHUP: a new connection (openssl s_client)
// sees the new serial while a connection opened before (Go's client, keep-alive) still
// works; then a bad certificate: SIGHUP keeps the previous one and logs the failure.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	s := testcerts.Generate(t)
	certFile, keyFile := s.Dir+"/live.pem", s.Dir+"/live.key"
	copyTo(t, s.ServerCert, certFile)
	copyTo(t, s.ServerKey, keyFile)
	a := startTLS(t, "--ssl-certfile", certFile, "--ssl-keyfile", keyFile, "--ssl-watch-interval", "-1s")
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(s.CACert)
	pool.AppendCertsFromPEM(caPEM)
	before, err := tls.Dial("tcp", a.tls, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	request := func() string {
		t.Helper()
		if _, err := before.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		_ = before.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		n, err := before.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if r := request(); !strings.Contains(r, "Hello, World!") {
		t.Fatalf("first request: %q", r)
	}
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, a.tls)); got != testcerts.Serial {
		t.Fatalf("serial %s before the reload", got)
	}
	copyTo(t, s.Server2Cert, certFile)
	copyTo(t, s.Server2Key, keyFile)
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the reload line", func() bool {
		return strings.Contains(a.logs(), `msg="TLS certificate reloaded" trigger=reload`)
	})
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, a.tls)); got != testcerts.Serial2 {
		t.Fatalf("serial %s after the reload, want %s", got, testcerts.Serial2)
	}
	if r := request(); !strings.Contains(r, "Hello, World!") {
		t.Fatalf("request on the connection opened before the reload: %q", r)
	}

	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the failed reload line", func() bool {
		return strings.Contains(a.logs(), "TLS certificate reload failed; serving the previous certificate")
	})
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, a.tls)); got != testcerts.Serial2 {
		t.Fatalf("serial %s after a bad reload, want the previous %s", got, testcerts.Serial2)
	}
	if out, err := curlTLS(a.url("/"), "--cacert", s.CACert); err != nil || out != "Hello, World!" {
		t.Fatalf("after a bad reload: %v %s", err, out)
	}
}

// TestTLSReloadOnFileChange: replacing the files without a signal is noticed by the
// watch; new connections get the new certificate.
func TestTLSReloadOnFileChange(t *testing.T) {
	s := testcerts.Generate(t)
	certFile, keyFile := s.Dir+"/live.pem", s.Dir+"/live.key"
	copyTo(t, s.ServerCert, certFile)
	copyTo(t, s.ServerKey, keyFile)
	a := startTLS(t, "--ssl-certfile", certFile, "--ssl-keyfile", keyFile, "--ssl-watch-interval", "100ms")
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, a.tls)); got != testcerts.Serial {
		t.Fatalf("serial %s before the change", got)
	}
	copyTo(t, s.Server2Cert, certFile)
	copyTo(t, s.Server2Key, keyFile)
	testutil.WaitFor(t, 10*time.Second, "the file-change reload line", func() bool {
		return strings.Contains(a.logs(), `msg="TLS certificate reloaded" trigger="file change"`)
	})
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, a.tls)); got != testcerts.Serial2 {
		t.Fatalf("serial %s after the change, want %s", got, testcerts.Serial2)
	}
}

var fingerprintRE = regexp.MustCompile(`msg="serving a self-signed certificate.*sha256=([0-9A-F:]+)`)

// TestTLSSelfSigned: --ssl-self-signed logs a fingerprint that is the SHA-256 of the
// certificate openssl s_client receives, for 127.0.0.1 and localhost; curl speaks h2 to it.
func TestTLSSelfSigned(t *testing.T) {
	a := startTLS(t, "--ssl-self-signed")
	m := fingerprintRE.FindStringSubmatch(a.logs())
	if m == nil {
		t.Fatalf("no fingerprint logged:\n%s", a.logs())
	}
	cert := testcerts.PeerCertificate(t, a.tls)
	sum := sha256.Sum256(cert.Raw)
	var hexes []string
	for _, b := range sum {
		hexes = append(hexes, fmt.Sprintf("%02X", b))
	}
	if got := strings.Join(hexes, ":"); got != m[1] {
		t.Fatalf("openssl sees %s, logged %s", got, m[1])
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(name); err != nil {
			t.Errorf("certificate for %s: %v", name, err)
		}
	}
	out, err := curlTLS(a.url("/"), "-k", "--http2", "-w", " %{http_version}")
	if err != nil || out != "Hello, World! 2" {
		t.Fatalf("curl -k --http2: %v %s", err, out)
	}
}

// TestTLSBindBesideCleartextBind: one process serves https on --ssl-bind and http on
// --bind; each port speaks only its own.
func TestTLSBindBesideCleartextBind(t *testing.T) {
	clear := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startAsgoCmd(t, "serve", "--bind", clear, "--ssl-bind", tlsAddr, "--ssl-self-signed")
	testutil.WaitFor(t, 10*time.Second, "both listeners' log lines", func() bool {
		return strings.Contains(p.logs(), "https://"+tlsAddr) && strings.Contains(p.logs(), clear)
	})
	if out, err := curlTLS("http://" + clear + "/"); err != nil || out != "Hello, World!" {
		t.Fatalf("http on --bind: %v %s", err, out)
	}
	if out, err := curlTLS("https://"+tlsAddr+"/", "-k"); err != nil || out != "Hello, World!" {
		t.Fatalf("https on --ssl-bind: %v %s", err, out)
	}
	// A cleartext port waits for a request head that a ClientHello never completes:
	// the client gives up (the header timeout would close it).
	if out, err := curlTLS("https://"+clear+"/", "-k", "--max-time", "2"); err == nil {
		t.Fatalf("https on the cleartext port succeeded: %s", out)
	}
	if out, err := curlTLS("http://"+tlsAddr+"/", "--http1.1"); err == nil && strings.Contains(out, "Hello") {
		t.Fatalf("http on the TLS port was served: %s", out)
	}
}

// TestTLSBindsBecomeTLS: with a certificate and no --ssl-bind, --bind serves TLS, as
// uvicorn's does.
func TestTLSBindsBecomeTLS(t *testing.T) {
	s := testcerts.Generate(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p := startTLSOnly(t, addr, "serve", "--bind", addr, "--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKeyPKCS8,
		"--ssl-keyfile-password", testcerts.Password)
	if !strings.Contains(p.logs(), "TLS certificate loaded") {
		t.Fatalf("no certificate line:\n%s", p.logs())
	}
	if out, err := curlTLS("https://"+addr+"/", "--cacert", s.CACert); err != nil || out != "Hello, World!" {
		t.Fatalf("https on --bind: %v %s", err, out)
	}
}

// TestTLSSessionResumption: session tickets are on: Go's client with a session cache
// resumes its second connection, over TLS 1.2 and 1.3.
func TestTLSSessionResumption(t *testing.T) {
	s := testcerts.Generate(t)
	a := startTLS(t, "--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKey)
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(s.CACert)
	pool.AppendCertsFromPEM(caPEM)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: version,
			NextProtos: []string{"http/1.1"}, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		resumed := func() bool {
			t.Helper()
			c, err := tls.Dial("tcp", a.tls, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// A TLS 1.3 ticket arrives after the handshake: read the answer to get it.
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if b, err := io.ReadAll(c); err != nil || !strings.Contains(string(b), "Hello, World!") {
				t.Fatalf("answer %q, %v", b, err)
			}
			return c.ConnectionState().DidResume
		}
		if resumed() {
			t.Fatalf("%s: the first connection resumed", tls.VersionName(version))
		}
		if !resumed() {
			t.Fatalf("%s: the second connection did not resume", tls.VersionName(version))
		}
	}
}
