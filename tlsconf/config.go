package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config says where the certificate comes from and how clients are verified. The zero
// value is "TLS off" (Enabled reports false). Load normalises it once; its fields are
// not read again afterwards except by Reload, which rereads the files they name.
type Config struct {
	// CertFile is the PEM certificate chain (leaf first, then intermediates) served to
	// clients (--ssl-certfile). It may hold the private key too, as Python's
	// load_cert_chain allows, when KeyFile is empty.
	CertFile string
	// KeyFile is the PEM private key of CertFile's leaf (--ssl-keyfile): PKCS#1, PKCS#8
	// or SEC 1, plain or encrypted (see KeyFilePassword).
	KeyFile string
	// KeyFilePassword decrypts an encrypted KeyFile (--ssl-keyfile-password): legacy
	// OpenSSL PEM encryption ("Proc-Type: 4,ENCRYPTED", `openssl rsa -aes256
	// -traditional`) and PKCS#8 PBES2 with PBKDF2 and AES-CBC ("BEGIN ENCRYPTED PRIVATE
	// KEY", OpenSSL 3's default for `openssl genpkey -aes256`). Other schemes (scrypt,
	// PBES1, DES) are refused with an error saying how to convert the key.
	KeyFilePassword string
	// CACerts is a PEM bundle of the CAs that client certificates must chain to
	// (--ssl-ca-certs). Required when CertReqs is not CertNone.
	CACerts string
	// CertReqs says whether clients must present a certificate (--ssl-cert-reqs).
	// The zero value, CertNone, asks for none.
	CertReqs CertReqs
	// MinVersion is the lowest TLS version accepted: tls.VersionTLS12 or
	// tls.VersionTLS13 (--ssl-min-version). If zero, TLS 1.2.
	MinVersion uint16
	// Ciphers restricts the TLS 1.2 cipher suites (--ssl-ciphers), by Go name
	// (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or OpenSSL name
	// (ECDHE-RSA-AES128-GCM-SHA256). If empty, Go's defaults. TLS 1.3 suites are not
	// configurable in Go and always on; Go orders the suites itself.
	Ciphers []string
	// SelfSigned makes an in-memory ECDSA P-256 certificate for localhost, 127.0.0.1
	// and ::1, valid for 30 days, and logs its SHA-256 fingerprint (--ssl-self-signed).
	// For development only; it excludes CertFile and KeyFile.
	SelfSigned bool
	// WatchInterval is how often CertFile and KeyFile are checked for a change (mtime,
	// size, inode); a change seen twice in a row is reloaded (so a cert written before
	// its key is not tried alone). If zero, 5 s; negative turns the check off (SIGHUP
	// still reloads).
	WatchInterval time.Duration
	// TicketKeyRotation is how often a new session ticket key is made; the previous
	// TicketKeysKept-1 keys still decrypt, so a ticket resumes for up to
	// TicketKeyRotation x TicketKeysKept. If zero, 1 h (24 h of resumption).
	TicketKeyRotation time.Duration
	// Logger receives the load, reload and rotation lines. If nil, slog.Default().
	Logger *slog.Logger
}

// TicketKeysKept is how many session ticket keys are kept: the newest encrypts new
// tickets, every one of them decrypts.
const TicketKeysKept = 24

const (
	defaultWatchInterval     = 5 * time.Second
	defaultTicketKeyRotation = time.Hour
)

// Enabled reports whether cfg asks for TLS at all: a certificate file or a
// self-signed certificate.
func (cfg Config) Enabled() bool { return cfg.CertFile != "" || cfg.SelfSigned }

// Validate checks cfg without reading any file: conflicting or missing fields, and
// unknown cipher or version names. Load calls it first.
func (cfg Config) Validate() error {
	switch {
	case cfg.SelfSigned && (cfg.CertFile != "" || cfg.KeyFile != ""):
		return errors.New("tlsconf: a self-signed certificate excludes a certificate file and key file")
	case cfg.KeyFile != "" && cfg.CertFile == "":
		return errors.New("tlsconf: a key file needs a certificate file")
	case cfg.KeyFilePassword != "" && cfg.CertFile == "":
		return errors.New("tlsconf: a key file password needs a certificate file")
	case cfg.CertReqs != CertNone && cfg.CACerts == "":
		return fmt.Errorf("tlsconf: client certificates %s need a CA file to verify them against", cfg.CertReqs)
	case cfg.CertReqs < CertNone || cfg.CertReqs > CertRequired:
		return fmt.Errorf("tlsconf: unknown client certificate requirement %d", int(cfg.CertReqs))
	case !cfg.Enabled() && (cfg.CACerts != "" || cfg.CertReqs != CertNone || len(cfg.Ciphers) > 0 || cfg.MinVersion != 0):
		return errors.New("tlsconf: TLS options need a certificate file or a self-signed certificate")
	}
	if cfg.MinVersion != 0 && cfg.MinVersion != tls.VersionTLS12 && cfg.MinVersion != tls.VersionTLS13 {
		return fmt.Errorf("tlsconf: minimum version %#04x: want TLS 1.2 or 1.3", cfg.MinVersion)
	}
	_, err := CipherSuites(cfg.Ciphers)
	return err
}

// CertReqs is the client certificate requirement, Python's ssl.CERT_NONE,
// CERT_OPTIONAL and CERT_REQUIRED.
type CertReqs int

const (
	// CertNone asks for no client certificate.
	CertNone CertReqs = iota
	// CertOptional asks for one and verifies it against CACerts if the client sends
	// one (tls.VerifyClientCertIfGiven).
	CertOptional
	// CertRequired refuses the handshake without a certificate that chains to CACerts
	// (tls.RequireAndVerifyClientCert).
	CertRequired
)

func (r CertReqs) String() string {
	switch r {
	case CertNone:
		return "none"
	case CertOptional:
		return "optional"
	case CertRequired:
		return "required"
	}
	return fmt.Sprintf("CertReqs(%d)", int(r))
}

// ParseCertReqs parses none, optional or required, or uvicorn's 0, 1 or 2.
func ParseCertReqs(s string) (CertReqs, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none", "0", "cert_none":
		return CertNone, nil
	case "optional", "1", "cert_optional":
		return CertOptional, nil
	case "required", "2", "cert_required":
		return CertRequired, nil
	}
	return CertNone, fmt.Errorf("tlsconf: client certificate requirement %q: want none, optional or required", s)
}

func (r CertReqs) clientAuth() tls.ClientAuthType {
	switch r {
	case CertOptional:
		return tls.VerifyClientCertIfGiven
	case CertRequired:
		return tls.RequireAndVerifyClientCert
	}
	return tls.NoClientCert
}

// ParseMinVersion parses 1.2 or 1.3 (also TLSv1.2, TLSv1.3) into a tls.VersionTLS*.
func ParseMinVersion(s string) (uint16, error) {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "tlsv") {
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("tlsconf: minimum version %q: want 1.2 or 1.3", s)
}

// openSSLNames maps OpenSSL's names of the TLS 1.2 suites Go implements and does not
// call insecure to Go's names.
var openSSLNames = map[string]string{
	"ECDHE-ECDSA-AES128-GCM-SHA256": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-RSA-AES128-GCM-SHA256":   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-RSA-AES256-GCM-SHA384":   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305": "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-RSA-CHACHA20-POLY1305":   "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
	"ECDHE-ECDSA-AES128-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
	"ECDHE-RSA-AES128-SHA":          "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"ECDHE-ECDSA-AES256-SHA":        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
	"ECDHE-RSA-AES256-SHA":          "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
}

// CipherSuites resolves TLS 1.2 suite names (Go's or OpenSSL's; each entry may itself
// be a list separated by ':' or ',', as OpenSSL cipher strings are) to their IDs. It
// refuses unknown names, suites Go calls insecure, and TLS 1.3 suites, which Go does
// not let anyone configure. An empty list gives nil: Go's defaults.
func CipherSuites(names []string) ([]uint16, error) {
	byName := map[string]*tls.CipherSuite{}
	for _, s := range tls.CipherSuites() {
		byName[s.Name] = s
	}
	insecure := map[string]bool{}
	for _, s := range tls.InsecureCipherSuites() {
		insecure[s.Name] = true
	}
	var ids []uint16
	for _, entry := range names {
		for name := range strings.FieldsFuncSeq(entry, func(r rune) bool { return r == ':' || r == ',' || r == ' ' }) {
			goName := name
			if n, ok := openSSLNames[strings.ToUpper(name)]; ok {
				goName = n
			}
			s, ok := byName[strings.ToUpper(goName)]
			switch {
			case insecure[strings.ToUpper(goName)]:
				return nil, fmt.Errorf("tlsconf: cipher suite %s is insecure and not offered", name)
			case !ok:
				return nil, fmt.Errorf("tlsconf: unknown cipher suite %q (Go or OpenSSL names of TLS 1.2 suites, e.g. ECDHE-RSA-AES128-GCM-SHA256)", name)
			case !supportsTLS12(s):
				return nil, fmt.Errorf("tlsconf: cipher suite %s is a TLS 1.3 suite; Go does not let TLS 1.3 suites be configured", name)
			}
			ids = append(ids, s.ID)
		}
	}
	return ids, nil
}

func supportsTLS12(s *tls.CipherSuite) bool {
	for _, v := range s.SupportedVersions {
		if v == tls.VersionTLS12 {
			return true
		}
	}
	return false
}
