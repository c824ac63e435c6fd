package eventloop

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// testCerts are a CA and a leaf certificate for localhost and 127.0.0.1 it signed,
// made by the openssl CLI.
type testCerts struct {
	dir               string
	caFile            string // the CA certificate (PEM), for clients' --cacert
	certFile, keyFile string
	pool              *x509.CertPool
	cert              tls.Certificate
}

// makeTestCerts runs openssl to make a CA and a leaf into a temporary directory.
func makeTestCerts(t testing.TB) *testCerts {
	t.Helper()
	dir := t.TempDir()
	tc := &testCerts{
		dir:      dir,
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "leaf.pem"),
		keyFile:  filepath.Join(dir, "leaf.key"),
	}
	ext := filepath.Join(dir, "leaf.ext")
	if err := os.WriteFile(ext, []byte("subjectAltName=DNS:localhost,IP:127.0.0.1\n"+
		"extendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caKey := filepath.Join(dir, "ca.key")
	csr := filepath.Join(dir, "leaf.csr")
	openssl(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", caKey, "-out", tc.caFile, "-days", "2", "-subj", "/CN=asgo test CA")
	openssl(t, dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", tc.keyFile, "-out", csr, "-subj", "/CN=localhost")
	openssl(t, dir, "x509", "-req", "-in", csr, "-CA", tc.caFile, "-CAkey", caKey, "-CAcreateserial",
		"-out", tc.certFile, "-days", "2", "-extfile", ext)
	cert, err := tls.LoadX509KeyPair(tc.certFile, tc.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	tc.cert = cert
	ca, err := os.ReadFile(tc.caFile)
	if err != nil {
		t.Fatal(err)
	}
	tc.pool = x509.NewCertPool()
	tc.pool.AppendCertsFromPEM(ca)
	return tc
}

func openssl(t testing.TB, dir string, args ...string) {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is required (make deps installs it): %v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// serverConfig is a TLS configuration serving the leaf certificate.
func (tc *testCerts) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{tc.cert}, MinVersion: tls.VersionTLS12}
}

// clientConfig trusts the test CA and offers protos by ALPN.
func (tc *testCerts) clientConfig(protos ...string) *tls.Config {
	return &tls.Config{RootCAs: tc.pool, ServerName: "localhost", NextProtos: protos}
}

// tlsServer is a test server with a TLS listener (addr) and a cleartext one (plain).
type tlsServer struct {
	*testServer
	plain string
	certs *testCerts
}

// startTLSServer runs a server for app (a testApp if nil) with a TLS listener and a
// cleartext one, both on 127.0.0.1:0.
func startTLSServer(t testing.TB, cfg Config, app asgi.App) *tlsServer {
	t.Helper()
	ta := newTestApp()
	if app == nil {
		app = ta
	}
	certs := makeTestCerts(t)
	cfg.Binds = []string{"127.0.0.1:0"}
	cfg.TLSBinds = []string{"127.0.0.1:0"}
	if cfg.TLS == nil {
		cfg.TLS = certs.serverConfig()
	}
	srv, logs := startListeners(t, cfg, app)
	addrs := srv.Addrs()
	ts := &testServer{Server: srv, addr: addrs[1].String(), app: ta, logs: logs,
		tlsClient: certs.clientConfig("http/1.1"), caFile: certs.caFile}
	return &tlsServer{testServer: ts, plain: addrs[0].String(), certs: certs}
}

// dialTCP opens a TCP connection to the TLS listener without a handshake.
func (ts *tlsServer) dialTCP(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", ts.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// transport is how a test reaches the server: cleartext TCP or TLS. The integration
// scenarios run one test body over each.
type transport struct {
	name  string
	start func(t testing.TB, cfg Config, app asgi.App) *testServer
}

var transports = []transport{
	{"tcp", startServer},
	{"tls", func(t testing.TB, cfg Config, app asgi.App) *testServer {
		return startTLSServer(t, cfg, app).testServer
	}},
}

// eachTransport runs f once per transport.
func eachTransport(t *testing.T, f func(t *testing.T, tr transport)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { f(t, tr) })
	}
}

// client is a net/http client over TLS, with HTTP/2 if h2.
func (ts *tlsServer) client(h2 bool) *http.Client { return tlsClient(ts.tlsClient, h2) }

// tlsClient is a net/http client with the TLS configuration cfg, with HTTP/2 (ALPN)
// if h2, else HTTP/1.1 only.
func tlsClient(cfg *tls.Config, h2 bool) *http.Client {
	cfg = cfg.Clone()
	cfg.NextProtos = nil
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}
