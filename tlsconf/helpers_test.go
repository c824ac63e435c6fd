package tlsconf

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testcerts"
	"github.com/asgo-dev/asgo/internal/testutil"
)

// load runs Load with a logger writing to the returned buffer and closes the Manager
// when the test ends.
func load(t *testing.T, cfg Config) (*Manager, *testutil.LogBuffer) {
	t.Helper()
	logs := &testutil.LogBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := Load(cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(m.Close)
	return m, logs
}

// serveHTTPS serves m's config with net/http on a real crypto/tls listener (the
// stand-in for asgo's own TLS transport) and returns its address. The handler answers
// "proto=<TLS version> peer=<client certificate CN or ->".
func serveHTTPS(t *testing.T, m *Manager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.TLSConfig()
	cfg.NextProtos = []string{"http/1.1"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := "-"
		if len(r.TLS.VerifiedChains) > 0 {
			peer = r.TLS.VerifiedChains[0][0].Subject.CommonName
		}
		fmt.Fprintf(w, "proto=%s peer=%s", tls.VersionName(r.TLS.Version), peer)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(tls.NewListener(ln, cfg)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// curl runs curl against https://addr/ with args and returns its output and error.
func curl(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all := append([]string{"-sS", "--max-time", "8"}, args...)
	out, err := exec.CommandContext(ctx, "curl", append(all, "https://"+addr+"/")...).CombinedOutput()
	return string(out), err
}

// copyFile overwrites dst with src's content, as an operator renewing a certificate
// in place would.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serverFiles copies the set's first server certificate and key to files of their own,
// which a test may then replace.
func serverFiles(t *testing.T, s *testcerts.Set) (cert, key string) {
	t.Helper()
	cert, key = s.Dir+"/live.pem", s.Dir+"/live.key"
	copyFile(t, s.ServerCert, cert)
	copyFile(t, s.ServerKey, key)
	return cert, key
}
