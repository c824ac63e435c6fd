// Package testcerts makes test certificates with the openssl command at test time (no
// key is ever committed): a CA, server leaves signed by it, a second unrelated CA,
// client certificates from each, and encrypted forms of a key. It imports nothing of
// this module, so any package's tests may use it.
package testcerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Password encrypts the encrypted key files.
const Password = "s3cret pass"

// Set is the paths of the files Generate wrote, all PEM.
type Set struct {
	Dir string
	// CA signs Server, Server2 and Client; CACert is its certificate.
	CACert string
	// Server and Server2 are server leaves for localhost, 127.0.0.1 and ::1 with
	// serials 1001 and 1002 (hex, as openssl and tlsconf log them), each with its key.
	ServerCert, ServerKey   string
	Server2Cert, Server2Key string
	// WrongCACert is an unrelated CA; WrongClient is a client certificate it signed.
	WrongCACert                     string
	ClientCert, ClientKey           string
	WrongClientCert, WrongClientKey string
	// ServerKeyLegacy is ServerKey encrypted with Password in OpenSSL's legacy PEM form
	// (Proc-Type: 4,ENCRYPTED); ServerKeyPKCS8 in PKCS#8 PBES2 (AES-256-CBC, PBKDF2
	// HMAC-SHA256: OpenSSL 3's default); ServerKeyScrypt in PKCS#8 with scrypt.
	ServerKeyLegacy, ServerKeyPKCS8, ServerKeyScrypt string
}

// Serial and Serial2 are the serial numbers of Server and Server2, in hex.
const (
	Serial  = "1001"
	Serial2 = "1002"
)

// cache holds the files of the first Generate of the process (name -> content): openssl
// runs once, and each later Set is a copy in its own directory.
var cache struct {
	sync.Mutex
	files map[string][]byte
}

// Generate writes a Set into a new temporary directory of t, so a test may replace its
// files. The certificates are the same for every call of a process. It fails t when
// openssl fails. Safe for concurrent use.
func Generate(t testing.TB) *Set {
	t.Helper()
	dir := t.TempDir()
	cache.Lock()
	defer cache.Unlock()
	if cache.files == nil {
		gen := t.TempDir()
		generate(t, gen)
		entries, err := os.ReadDir(gen)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, e := range entries {
			if files[e.Name()], err = os.ReadFile(filepath.Join(gen, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		cache.files = files
	}
	for name, data := range cache.files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return newSet(dir)
}

func newSet(dir string) *Set {
	p := func(name string) string { return filepath.Join(dir, name) }
	return &Set{
		Dir: dir, CACert: p("ca.pem"), ServerCert: p("server.pem"), ServerKey: p("server.key"),
		Server2Cert: p("server2.pem"), Server2Key: p("server2.key"), WrongCACert: p("wrongca.pem"),
		ClientCert: p("client.pem"), ClientKey: p("client.key"), WrongClientCert: p("wrongclient.pem"),
		WrongClientKey: p("wrongclient.key"), ServerKeyLegacy: p("server-legacy.key"),
		ServerKeyPKCS8: p("server-pkcs8.key"), ServerKeyScrypt: p("server-scrypt.key"),
	}
}

// generate runs openssl to write every file of a Set into dir.
func generate(t testing.TB, dir string) {
	t.Helper()
	p := func(name string) string { return filepath.Join(dir, name) }
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(p(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("server.ext", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
	write("client.ext", "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n")
	ca := func(name, cn string) {
		run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
			"-subj", "/CN="+cn, "-keyout", name+".key", "-out", name+".pem",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	}
	leaf := func(name, cn, caName, serial, ext string) {
		run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN="+cn,
			"-keyout", name+".key", "-out", name+".csr")
		run("x509", "-req", "-in", name+".csr", "-CA", caName+".pem", "-CAkey", caName+".key",
			"-set_serial", "0x"+serial, "-days", "2", "-extfile", ext, "-out", name+".pem")
	}
	ca("ca", "asgo test CA")
	ca("wrongca", "asgo wrong CA")
	leaf("server", "localhost", "ca", Serial, "server.ext")
	leaf("server2", "localhost", "ca", Serial2, "server.ext")
	leaf("client", "asgo test client", "ca", "2001", "client.ext")
	leaf("wrongclient", "asgo wrong client", "wrongca", "2002", "client.ext")
	run("ec", "-in", "server.key", "-aes256", "-passout", "pass:"+Password, "-out", "server-legacy.key")
	run("pkcs8", "-topk8", "-v2", "aes256", "-v2prf", "hmacWithSHA256", "-in", "server.key",
		"-passout", "pass:"+Password, "-out", "server-pkcs8.key")
	run("pkcs8", "-topk8", "-scrypt", "-in", "server.key", "-passout", "pass:"+Password, "-out", "server-scrypt.key")
}
