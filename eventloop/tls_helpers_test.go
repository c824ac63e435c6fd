package eventloop

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testcerts"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// testCerts are internal/testcerts' CA, server leaf (localhost, 127.0.0.1) and client
// leaf, loaded.
type testCerts struct {
	caFile       string // the CA certificate (PEM), for clients' --cacert
	pool         *x509.CertPool
	cert, client tls.Certificate
}

// makeTestCerts loads a testcerts.Set made for t (openssl runs once per process).
func makeTestCerts(t testing.TB) *testCerts {
	t.Helper()
	set := testcerts.Generate(t)
	tc := &testCerts{caFile: set.CACert}
	var err error
	if tc.cert, err = tls.LoadX509KeyPair(set.ServerCert, set.ServerKey); err != nil {
		t.Fatal(err)
	}
	if tc.client, err = tls.LoadX509KeyPair(set.ClientCert, set.ClientKey); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(tc.caFile)
	if err != nil {
		t.Fatal(err)
	}
	tc.pool = x509.NewCertPool()
	tc.pool.AppendCertsFromPEM(ca)
	return tc
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
