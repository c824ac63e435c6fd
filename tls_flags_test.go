package asgo

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/tlsconf"
)

func TestTLSFlags(t *testing.T) {
	o, err := parseFlags("asgo serve", nil, "", []string{
		"--ssl-certfile", "c.pem", "--ssl-keyfile", "k.pem", "--ssl-keyfile-password", "pw", "--ssl-ca-certs", "ca.pem",
		"--ssl-cert-reqs", "required", "--ssl-min-version", "1.3", "--ssl-ciphers", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
		"--ssl-bind", "127.0.0.1:8443", "--ssl-bind", "[::1]:8443", "--ssl-watch-interval", "2s", "--bind", "127.0.0.1:8080",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := tlsconf.Config{CertFile: "c.pem", KeyFile: "k.pem", KeyFilePassword: "pw", CACerts: "ca.pem",
		CertReqs: tlsconf.CertRequired, MinVersion: tls.VersionTLS13, Ciphers: []string{"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"},
		WatchInterval: 2e9}
	if !reflect.DeepEqual(o.config.TLS, want) {
		t.Fatalf("TLS %+v\nwant %+v", o.config.TLS, want)
	}
	if !reflect.DeepEqual(o.config.Server.TLSBinds, []string{"127.0.0.1:8443", "[::1]:8443"}) {
		t.Fatalf("ssl binds %v", o.config.Server.TLSBinds)
	}
	for _, bad := range [][]string{
		{"--ssl-bind", "127.0.0.1:8443"},
		{"--ssl-keyfile", "k.pem"},
		{"--ssl-certfile", "c.pem", "--ssl-self-signed"},
		{"--ssl-certfile", "c.pem", "--ssl-cert-reqs", "always"},
		{"--ssl-certfile", "c.pem", "--ssl-cert-reqs", "required"},
		{"--ssl-certfile", "c.pem", "--ssl-min-version", "1.1"},
		{"--ssl-certfile", "c.pem", "--ssl-ciphers", "RC4-SHA"},
		{"--ssl-min-version", "1.3"},
	} {
		var stderr bytes.Buffer
		if _, err := parseFlags("asgo serve", nil, "", bad, &stderr); err == nil {
			t.Errorf("%v accepted", bad)
		} else if !strings.Contains(stderr.String(), "asgo serve:") {
			t.Errorf("%v: no message: %q", bad, stderr.String())
		}
	}
	var help bytes.Buffer
	if _, err := parseFlags("asgo serve", nil, "", []string{"--help"}, &help); err != errHelp {
		t.Fatal(err)
	}
	for _, name := range tlsFlagNames {
		if !strings.Contains(help.String(), "--"+name) {
			t.Errorf("help lacks --%s", name)
		}
	}
	if !strings.Contains(help.String(), "\nTLS:\n") {
		t.Error("help lacks the TLS group")
	}
}

func TestTLSEnv(t *testing.T) {
	t.Setenv("ASGO_SSL_SELF_SIGNED", "true")
	t.Setenv("ASGO_SSL_BIND", "127.0.0.1:8443,127.0.0.1:9443")
	t.Setenv("ASGO_SSL_CERT_REQS", "optional")
	t.Setenv("ASGO_SSL_CA_CERTS", "ca.pem")
	t.Setenv("ASGO_SSL_KEYFILE_PASSWORD", "") // empty: unset
	t.Setenv("ASGO_SSL_CIPHERS", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")
	o, err := parseFlags("asgo serve", nil, "", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.config.TLS.SelfSigned || len(o.config.TLS.Ciphers) != 1 || o.config.TLS.KeyFilePassword != "" || o.config.TLS.CertReqs != tlsconf.CertOptional || o.config.TLS.CACerts != "ca.pem" ||
		!reflect.DeepEqual(o.config.Server.TLSBinds, []string{"127.0.0.1:8443", "127.0.0.1:9443"}) {
		t.Fatalf("from the environment: %+v %v", o.config.TLS, o.config.Server.TLSBinds)
	}
}

func TestTLSListeners(t *testing.T) {
	t.Setenv("LISTEN_FDS", "")
	for _, tc := range []struct {
		name          string
		srv           eventloop.Config
		tlsBinds      []string
		clear, secure []string
	}{
		{"default", eventloop.Config{}, nil, nil, []string{"127.0.0.1:8000"}},
		{"binds become TLS", eventloop.Config{Binds: []string{":443"}}, nil, nil, []string{":443"}},
		{"binds stay cleartext beside TLS binds", eventloop.Config{Binds: []string{":8080"}}, []string{":443"}, []string{":8080"}, []string{":443"}},
		{"only TLS binds", eventloop.Config{}, []string{":443"}, nil, []string{":443"}},
		{"a Unix socket alone stays cleartext", eventloop.Config{UnixSockets: []string{"/tmp/s"}}, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.srv.TLSBinds = tc.tlsBinds
			clear, secure := tlsListeners(tc.srv)
			if !reflect.DeepEqual(clear, tc.clear) || !reflect.DeepEqual(secure, tc.secure) {
				t.Fatalf("got %v %v, want %v %v", clear, secure, tc.clear, tc.secure)
			}
		})
	}
}

// TestApplyTLS: the server gets the Manager's own config (not a clone, so the ticket
// key rotation reaches it) with ALPN set; conflicting or listener-less setups are errors.
func TestApplyTLS(t *testing.T) {
	t.Setenv("LISTEN_FDS", "")
	m, err := tlsconf.Load(tlsconf.Config{SelfSigned: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := eventloop.Config{Binds: []string{"127.0.0.1:0"}, DisableHTTP2: true}
	if err := applyTLS(&srv, m); err != nil {
		t.Fatal(err)
	}
	if srv.TLS != m.TLSConfig() || !reflect.DeepEqual(srv.TLS.NextProtos, []string{"http/1.1"}) ||
		len(srv.Binds) != 0 || !reflect.DeepEqual(srv.TLSBinds, []string{"127.0.0.1:0"}) {
		t.Fatalf("applied: TLS %p (manager's %p) ALPN %v binds %v TLS binds %v", srv.TLS, m.TLSConfig(), srv.TLS.NextProtos, srv.Binds, srv.TLSBinds)
	}
	if err := applyTLS(&srv, m); err == nil || !strings.Contains(err.Error(), "both") {
		t.Fatalf("Server.TLS already set: %v", err)
	}
	uds := eventloop.Config{UnixSockets: []string{"/tmp/x.sock"}}
	if err := applyTLS(&uds, m); err == nil || !strings.Contains(err.Error(), "--ssl-bind") {
		t.Fatalf("only a Unix socket: %v", err)
	}
	if err := applyTLS(&eventloop.Config{}, nil); err != nil {
		t.Fatalf("no TLS: %v", err)
	}
}
