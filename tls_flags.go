package asgo

import (
	"errors"
	"flag"

	"github.com/asgo-dev/asgo/tlsconf"
)

// tlsFlagNames are the flags of the TLS group, in the order --help shows them.
var tlsFlagNames = []string{"ssl-certfile", "ssl-keyfile", "ssl-keyfile-password", "ssl-ca-certs", "ssl-cert-reqs",
	"ssl-min-version", "ssl-ciphers", "ssl-self-signed", "ssl-bind", "ssl-watch-interval"}

// tlsFlags defines the --ssl-* flags (uvicorn's names) into cfg, and --ssl-bind into
// binds, and returns the check to run after parsing.
func tlsFlags(fs *flag.FlagSet, cfg *tlsconf.Config, binds *bindList) func() error {
	fs.StringVar(&cfg.CertFile, "ssl-certfile", "", "serve TLS with the PEM certificate chain in `PATH` (leaf first; may hold the key too); reloaded on SIGHUP or when the file changes")
	fs.StringVar(&cfg.KeyFile, "ssl-keyfile", "", "PEM private key of --ssl-certfile, `PATH` (PKCS#1, PKCS#8 or EC; plain or encrypted)")
	fs.StringVar(&cfg.KeyFilePassword, "ssl-keyfile-password", "", "`PASSWORD` of an encrypted --ssl-keyfile: legacy PEM (Proc-Type: 4,ENCRYPTED) or PKCS#8 PBES2 (prefer $ASGO_SSL_KEYFILE_PASSWORD: flags show in ps)")
	fs.StringVar(&cfg.CACerts, "ssl-ca-certs", "", "PEM bundle `PATH` of the CAs client certificates must chain to (for --ssl-cert-reqs)")
	fs.Func("ssl-cert-reqs", "client certificate `MODE`: none, optional (verified if sent) or required (uvicorn's 0, 1, 2 too; default none)", func(v string) error {
		r, err := tlsconf.ParseCertReqs(v)
		cfg.CertReqs = r
		return err
	})
	fs.Func("ssl-min-version", "lowest TLS `VERSION` accepted: 1.2 or 1.3 (default 1.2)", func(v string) error {
		ver, err := tlsconf.ParseMinVersion(v)
		cfg.MinVersion = ver
		return err
	})
	fs.Func("ssl-ciphers", "TLS 1.2 cipher suites allowed, `LIST` of Go or OpenSSL names separated by : or , (e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256; TLS 1.3 suites are always Go's; default Go's)", func(v string) error {
		cfg.Ciphers = append(cfg.Ciphers, v)
		_, err := tlsconf.CipherSuites([]string{v})
		return err
	})
	fs.BoolVar(&cfg.SelfSigned, "ssl-self-signed", false, "serve TLS with an in-memory self-signed certificate for localhost, 127.0.0.1 and ::1, its SHA-256 fingerprint logged (development only)")
	fs.Var(binds, "ssl-bind", "serve TLS on `HOST:PORT` (repeatable); --bind then stays cleartext. Without it, TLS is served on the --bind addresses")
	fs.DurationVar(&cfg.WatchInterval, "ssl-watch-interval", 0, "check --ssl-certfile and --ssl-keyfile for changes this often and reload them (default 5s; negative: only on SIGHUP)")
	return func() error {
		if len(*binds) > 0 && !cfg.Enabled() {
			return errors.New("--ssl-bind needs --ssl-certfile or --ssl-self-signed")
		}
		return cfg.Validate()
	}
}
