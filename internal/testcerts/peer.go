package testcerts

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// PeerCertificate connects to addr with openssl s_client (SNI localhost, plus args)
// and returns the certificate the server presented; it fails t otherwise.
func PeerCertificate(t testing.TB, addr string, args ...string) *x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", addr, "-servername", "localhost"}, args...)...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl s_client: %v\n%s", err, out)
	}
	i := strings.Index(string(out), "-----BEGIN CERTIFICATE-----")
	if i < 0 {
		t.Fatalf("openssl s_client printed no certificate:\n%s", out)
	}
	block, _ := pem.Decode(out[i:])
	if block == nil {
		t.Fatalf("openssl s_client printed a broken certificate:\n%s", out)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// SerialOf is c's serial number in upper-case hex, as openssl prints it.
func SerialOf(c *x509.Certificate) string { return strings.ToUpper(c.SerialNumber.Text(16)) }
