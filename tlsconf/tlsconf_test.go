package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testcerts"
	"github.com/asgo-dev/asgo/internal/testutil"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"zero", Config{}, ""},
		{"cert", Config{CertFile: "c.pem"}, ""},
		{"self-signed", Config{SelfSigned: true, CertReqs: CertOptional, CACerts: "ca.pem"}, ""},
		{"self-signed and cert", Config{SelfSigned: true, CertFile: "c.pem"}, "excludes"},
		{"key without cert", Config{KeyFile: "k.pem"}, "needs a certificate file"},
		{"password without cert", Config{KeyFilePassword: "x"}, "needs a certificate file"},
		{"required without CA", Config{CertFile: "c.pem", CertReqs: CertRequired}, "need a CA file"},
		{"CA without TLS", Config{CACerts: "ca.pem"}, "need a certificate file"},
		{"bad version", Config{CertFile: "c.pem", MinVersion: tls.VersionTLS11}, "want TLS 1.2 or 1.3"},
		{"bad cipher", Config{CertFile: "c.pem", Ciphers: []string{"RC4-MD5"}}, "unknown cipher suite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	for in, want := range map[string]CertReqs{"none": CertNone, "0": CertNone, "Optional": CertOptional, "1": CertOptional, "required": CertRequired, "2": CertRequired} {
		if got, err := ParseCertReqs(in); err != nil || got != want {
			t.Errorf("ParseCertReqs(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseCertReqs("always"); err == nil {
		t.Error("ParseCertReqs(always) succeeded")
	}
	for in, want := range map[string]uint16{"1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13} {
		if got, err := ParseMinVersion(in); err != nil || got != want {
			t.Errorf("ParseMinVersion(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMinVersion("1.1"); err == nil {
		t.Error("ParseMinVersion(1.1) succeeded")
	}
	ids, err := CipherSuites([]string{"ECDHE-RSA-AES128-GCM-SHA256:TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ecdhe-ecdsa-chacha20-poly1305"})
	want := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	if err != nil || len(ids) != 3 || ids[0] != want[0] || ids[1] != want[1] || ids[2] != want[2] {
		t.Errorf("CipherSuites = %x, %v; want %x", ids, err, want)
	}
	for _, bad := range []string{"TLS_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "DES-CBC3-SHA"} {
		if _, err := CipherSuites([]string{bad}); err == nil {
			t.Errorf("CipherSuites(%s) succeeded", bad)
		}
	}
}

// TestServeWithCurl: a plain key; curl (OpenSSL) verifies the chain against the CA and
// gets the answer over TLS 1.3 and, forced, TLS 1.2.
func TestServeWithCurl(t *testing.T) {
	s := testcerts.Generate(t)
	m, logs := load(t, Config{CertFile: s.ServerCert, KeyFile: s.ServerKey})
	addr := serveHTTPS(t, m)
	for _, tc := range []struct{ flag, want string }{{"--tlsv1.3", "proto=TLS 1.3"}, {"--tls-max", "proto=TLS 1.2"}} {
		args := []string{"--cacert", s.CACert, tc.flag}
		if tc.flag == "--tls-max" {
			args = append(args, "1.2")
		}
		out, err := curl(t, addr, args...)
		if err != nil || out != tc.want+" peer=-" {
			t.Fatalf("curl %s: %v\n%s", tc.flag, err, out)
		}
	}
	if !strings.Contains(logs.String(), "TLS certificate loaded") || !strings.Contains(logs.String(), "serial="+testcerts.Serial) {
		t.Fatalf("no load line naming the serial:\n%s", logs)
	}
	if out, err := curl(t, addr, "--cacert", s.WrongCACert); err == nil {
		t.Fatalf("curl trusting another CA succeeded: %s", out)
	}
}

// TestKeyFormats: every key form openssl writes, plain and encrypted, with a right, a
// wrong and no password; the encrypted ones that load are served to curl.
func TestKeyFormats(t *testing.T) {
	s := testcerts.Generate(t)
	both := s.Dir + "/both.pem" // certificate and key in one file, as load_cert_chain allows
	certPEM, _ := os.ReadFile(s.ServerCert)
	keyPEM, _ := os.ReadFile(s.ServerKeyPKCS8)
	if err := os.WriteFile(both, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cert, key, password string
		wantErr                   string
		wrongPassword             bool
	}{
		{name: "plain", key: s.ServerKey},
		{name: "plain with a password", key: s.ServerKey, password: "unused"},
		{name: "legacy PEM", key: s.ServerKeyLegacy, password: testcerts.Password},
		{name: "legacy PEM no password", key: s.ServerKeyLegacy, wrongPassword: true},
		{name: "legacy PEM wrong password", key: s.ServerKeyLegacy, password: "nope", wrongPassword: true},
		{name: "PKCS#8 PBES2", key: s.ServerKeyPKCS8, password: testcerts.Password},
		{name: "PKCS#8 PBES2 no password", key: s.ServerKeyPKCS8, wrongPassword: true},
		{name: "PKCS#8 PBES2 wrong password", key: s.ServerKeyPKCS8, password: "nope", wrongPassword: true},
		{name: "PKCS#8 in the certificate file", cert: both, password: testcerts.Password},
		{name: "PKCS#8 scrypt", key: s.ServerKeyScrypt, password: testcerts.Password, wantErr: "not PBKDF2"},
		{name: "another key", key: s.Server2Key, wantErr: "private key does not match public key"},
		{name: "no key", key: s.CACert, wantErr: "no PEM private key"},
		{name: "missing file", key: s.Dir + "/missing.key", wantErr: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{CertFile: tc.cert, KeyFile: tc.key, KeyFilePassword: tc.password}
			if cfg.CertFile == "" {
				cfg.CertFile = s.ServerCert
			}
			if tc.wantErr != "" || tc.wrongPassword {
				_, err := Load(cfg)
				if err == nil || tc.wrongPassword && !errors.Is(err, ErrKeyPassword) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want %q (wrong password: %v)", err, tc.wantErr, tc.wrongPassword)
				}
				return
			}
			m, _ := load(t, cfg)
			if out, err := curl(t, serveHTTPS(t, m), "--cacert", s.CACert); err != nil || !strings.HasPrefix(out, "proto=") {
				t.Fatalf("curl: %v\n%s", err, out)
			}
		})
	}
}

// TestClientCertificates: required and optional client certificates with curl: with
// the CA's client certificate, without one, and with another CA's.
func TestClientCertificates(t *testing.T) {
	s := testcerts.Generate(t)
	good := []string{"--cert", s.ClientCert, "--key", s.ClientKey}
	wrong := []string{"--cert", s.WrongClientCert, "--key", s.WrongClientKey}
	for _, tc := range []struct {
		reqs              CertReqs
		withGood, without string // the answer, or "" when the handshake must fail
	}{
		{reqs: CertRequired, withGood: "peer=asgo test client"},
		{reqs: CertOptional, withGood: "peer=asgo test client", without: "peer=-"},
	} {
		t.Run(tc.reqs.String(), func(t *testing.T) {
			m, _ := load(t, Config{CertFile: s.ServerCert, KeyFile: s.ServerKey, CACerts: s.CACert, CertReqs: tc.reqs})
			addr := serveHTTPS(t, m)
			for _, maxVersion := range []string{"1.3", "1.2"} {
				base := []string{"--cacert", s.CACert, "--tls-max", maxVersion}
				if out, err := curl(t, addr, append(base, good...)...); err != nil || !strings.HasSuffix(out, tc.withGood) {
					t.Fatalf("TLS %s with a client certificate: %v\n%s", maxVersion, err, out)
				}
				out, err := curl(t, addr, base...)
				if tc.without == "" {
					if err == nil {
						t.Fatalf("TLS %s without a client certificate succeeded: %s", maxVersion, out)
					}
					// TLS 1.2 fails in the handshake with an alert; in 1.3 the client's
					// handshake is over before the server refuses, and the alert may
					// arrive as a reset instead.
					if maxVersion == "1.2" && !strings.Contains(out, "alert") {
						t.Errorf("TLS %s without a client certificate: want a TLS alert, got %s", maxVersion, out)
					}
				} else if err != nil || !strings.HasSuffix(out, tc.without) {
					t.Fatalf("TLS %s without a client certificate: %v\n%s", maxVersion, err, out)
				}
				// Refused by the server's alert; in TLS 1.3 the client may see only the
				// closed connection, since its handshake ended before the server's.
				if out, err := curl(t, addr, append(base, wrong...)...); err == nil {
					t.Fatalf("TLS %s with another CA's client certificate succeeded: %s", maxVersion, out)
				}
			}
		})
	}
}

// TestMinVersionAndCiphers: with TLS 1.3 as the minimum, a TLS 1.2-only openssl client
// is refused; with one TLS 1.2 suite allowed, openssl gets it and is refused another.
func TestMinVersionAndCiphers(t *testing.T) {
	s := testcerts.Generate(t)
	m13, _ := load(t, Config{CertFile: s.ServerCert, KeyFile: s.ServerKey, MinVersion: tls.VersionTLS13})
	addr13 := serveHTTPS(t, m13)
	if out, err := exec.Command("openssl", "s_client", "-connect", addr13, "-tls1_2").CombinedOutput(); err == nil {
		t.Fatalf("TLS 1.2 client accepted with minimum 1.3:\n%s", out)
	}
	if testcerts.SerialOf(testcerts.PeerCertificate(t, addr13, "-tls1_3")) != testcerts.Serial {
		t.Fatal("TLS 1.3 client did not get the certificate")
	}
	m, _ := load(t, Config{CertFile: s.ServerCert, KeyFile: s.ServerKey, Ciphers: []string{"ECDHE-ECDSA-AES256-GCM-SHA384"}})
	addr := serveHTTPS(t, m)
	out, err := exec.Command("openssl", "s_client", "-connect", addr, "-tls1_2").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ECDHE-ECDSA-AES256-GCM-SHA384") {
		t.Fatalf("openssl did not negotiate the one allowed suite: %v\n%s", err, out)
	}
	out, err = exec.Command("openssl", "s_client", "-connect", addr, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256").CombinedOutput()
	if err == nil {
		t.Fatalf("openssl negotiated a suite that is not allowed:\n%s", out)
	}
}

// TestReload: after the files are replaced and Reload is called, a new connection
// (openssl s_client) sees the new serial, while a connection opened before (Go's
// client, keep-alive) keeps working; a bad new certificate is logged and the previous
// one kept.
func TestReload(t *testing.T) {
	s := testcerts.Generate(t)
	certFile, keyFile := serverFiles(t, s)
	m, logs := load(t, Config{CertFile: certFile, KeyFile: keyFile, WatchInterval: -1})
	addr := serveHTTPS(t, m)
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(s.CACert)
	pool.AppendCertsFromPEM(caPEM)
	before, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	request := func(c *tls.Conn) string {
		t.Helper()
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	if r := request(before); !strings.Contains(r, "200 OK") {
		t.Fatalf("first request: %s", r)
	}
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, addr)); got != testcerts.Serial {
		t.Fatalf("serial before reload = %s", got)
	}

	copyFile(t, s.Server2Cert, certFile)
	copyFile(t, s.Server2Key, keyFile)
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, addr)); got != testcerts.Serial2 {
		t.Fatalf("serial after reload = %s, want %s", got, testcerts.Serial2)
	}
	if r := request(before); !strings.Contains(r, "200 OK") {
		t.Fatalf("request on the connection opened before the reload: %s", r)
	}
	if !strings.Contains(logs.String(), `msg="TLS certificate reloaded" trigger=reload`) {
		t.Fatalf("no reload line:\n%s", logs)
	}

	copyFile(t, s.ServerCert, certFile) // no longer matches the key
	if err := m.Reload(); err == nil {
		t.Fatal("Reload of a mismatched pair succeeded")
	}
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(); err == nil {
		t.Fatal("Reload of garbage succeeded")
	}
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, addr)); got != testcerts.Serial2 {
		t.Fatalf("serial after failed reloads = %s, want the previous %s", got, testcerts.Serial2)
	}
	if n := strings.Count(logs.String(), "TLS certificate reload failed; serving the previous certificate"); n != 2 {
		t.Fatalf("%d failure lines, want 2:\n%s", n, logs)
	}
}

// TestWatch: replacing the files without any call is noticed by the poll; a
// certificate written without its key is not loaded alone, and once the key follows,
// the pair is.
func TestWatch(t *testing.T) {
	s := testcerts.Generate(t)
	certFile, keyFile := serverFiles(t, s)
	m, logs := load(t, Config{CertFile: certFile, KeyFile: keyFile, WatchInterval: 50 * time.Millisecond})
	addr := serveHTTPS(t, m)
	copyFile(t, s.Server2Cert, certFile)
	copyFile(t, s.Server2Key, keyFile)
	testutil.WaitFor(t, 5*time.Second, "the watch to load the new certificate", func() bool {
		return strings.ToUpper(m.Certificate().Leaf.SerialNumber.Text(16)) == testcerts.Serial2
	})
	if got := testcerts.SerialOf(testcerts.PeerCertificate(t, addr)); got != testcerts.Serial2 {
		t.Fatalf("openssl sees serial %s, want %s", got, testcerts.Serial2)
	}
	if !strings.Contains(logs.String(), "trigger=\"file change\"") {
		t.Fatalf("no file-change line:\n%s", logs)
	}
	// (On a loaded machine the poll may have caught the new certificate before its key
	// for two polls in a row and logged one failure: count from here.)
	failures := strings.Count(logs.String(), "reload failed")
	if err := os.Remove(keyFile); err != nil { // a broken state stays logged, not loaded
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the failed reload to be logged", func() bool {
		return strings.Count(logs.String(), "reload failed") > failures
	})
	time.Sleep(200 * time.Millisecond)
	if n := strings.Count(logs.String(), "reload failed") - failures; n != 1 {
		t.Fatalf("%d failure lines for one broken state, want 1:\n%s", n, logs)
	}
	copyFile(t, s.ServerKey, keyFile)
	copyFile(t, s.ServerCert, certFile)
	testutil.WaitFor(t, 5*time.Second, "the first certificate to come back", func() bool {
		return strings.ToUpper(m.Certificate().Leaf.SerialNumber.Text(16)) == testcerts.Serial
	})
}

// TestSessionTickets: Go's client resumes a session across key rotations while the
// ticket's key is among the kept ones, and not after it left.
func TestSessionTickets(t *testing.T) {
	s := testcerts.Generate(t)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			m, _ := load(t, Config{CertFile: s.ServerCert, KeyFile: s.ServerKey})
			addr := serveHTTPS(t, m)
			pool := x509.NewCertPool()
			caPEM, _ := os.ReadFile(s.CACert)
			pool.AppendCertsFromPEM(caPEM)
			cfg := &tls.Config{RootCAs: pool, ServerName: "localhost", MaxVersion: version, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
			resumed := func() bool {
				t.Helper()
				c, err := tls.Dial("tcp", addr, cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				// TLS 1.3 tickets arrive after the handshake: read the answer to get them.
				_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
				buf := make([]byte, 4096)
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Read(buf)
				return c.ConnectionState().DidResume
			}
			if resumed() {
				t.Fatal("first connection resumed")
			}
			for range TicketKeysKept - 1 {
				if err := m.rotateTicketKey(); err != nil {
					t.Fatal(err)
				}
			}
			if !resumed() {
				t.Fatalf("no resumption with the ticket's key still kept")
			}
			// The resumed connection got a new ticket under the newest key; push
			// that key out of the kept list.
			for range TicketKeysKept {
				if err := m.rotateTicketKey(); err != nil {
					t.Fatal(err)
				}
			}
			if resumed() {
				t.Fatal("resumed with a ticket whose key was dropped")
			}
		})
	}
}

// TestSelfSigned: the logged fingerprint is the one python3's ssl module sees, and the
// certificate verifies for localhost, 127.0.0.1 and ::1.
func TestSelfSigned(t *testing.T) {
	m, logs := load(t, Config{SelfSigned: true})
	addr := serveHTTPS(t, m)
	cert := m.Certificate()
	fp := Fingerprint(cert.Certificate[0])
	if !strings.Contains(logs.String(), "sha256="+fp) {
		t.Fatalf("fingerprint %s not logged:\n%s", fp, logs)
	}
	script := `
import hashlib, socket, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
host, port = sys.argv[1].rsplit(":", 1)
with socket.create_connection((host, int(port))) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        d = hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest().upper()
        print(":".join(d[i:i+2] for i in range(0, len(d), 2)))
`
	out, err := exec.Command("python3", "-c", script, addr).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != fp {
		t.Fatalf("python3 saw %s (%v), logged %s", out, err, fp)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if err := m.Reload(); err != nil || !strings.Contains(logs.String(), "nothing to reload") {
		t.Fatalf("Reload of a self-signed certificate: %v\n%s", err, logs)
	}
}
