package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/internal/testcerts"
)

// TestTLSStartupErrors: a key that does not decrypt stops the start with exit status 1
// and a message naming the file, so does TLS without a TCP listener; flag mistakes exit 2.
func TestTLSStartupErrors(t *testing.T) {
	s := testcerts.Generate(t)
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		want   string
	}{
		{"wrong password", []string{"--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKeyLegacy, "--ssl-keyfile-password", "nope"}, 1, "server-legacy.key"},
		{"no password", []string{"--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKeyPKCS8}, 1, "no password was given"},
		{"scrypt key", []string{"--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.ServerKeyScrypt, "--ssl-keyfile-password", testcerts.Password}, 1, "openssl pkcs8"},
		{"mismatched key", []string{"--ssl-certfile", s.ServerCert, "--ssl-keyfile", s.Server2Key}, 1, "does not match"},
		{"ssl-bind without a certificate", []string{"--ssl-bind", "127.0.0.1:0"}, 2, "--ssl-bind needs"},
		{"required without CA", []string{"--ssl-self-signed", "--ssl-cert-reqs", "required"}, 2, "need a CA file"},
		{"no TCP listener", []string{"--ssl-self-signed", "--uds", filepath.Join(t.TempDir(), "s.sock")}, 1, "add --ssl-bind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			args := append([]string{"serve", "--bind", "127.0.0.1:0"}, tc.args...)
			if tc.name == "no TCP listener" {
				args = append([]string{"serve"}, tc.args...)
			}
			cmd := exec.CommandContext(ctx, asgoBin, args...)
			out, err := cmd.CombinedOutput()
			if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != tc.status || !strings.Contains(string(out), tc.want) {
				t.Fatalf("exit %v, want %d with %q:\n%s", err, tc.status, tc.want, out)
			}
		})
	}
}
