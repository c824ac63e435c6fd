package tlsconf

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Manager holds the TLS state of a server: the *tls.Config to serve with, the
// certificate its handshakes use (swapped by Reload), and the session ticket keys it
// rotates. Load returns it with its background goroutine running (file watch and
// ticket rotation); Close stops it. Every method is safe for concurrent use.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	tlsCfg *tls.Config
	cert   atomic.Pointer[tls.Certificate] // what new handshakes get

	mu       sync.Mutex // serialises reloads
	loaded   fileSig    // Guarded by mu: the files as they were at the last (tried) load
	pending  fileSig    // Owned by the watch goroutine: a change seen once, not yet loaded
	tickets  [][32]byte // Owned by the watch goroutine after Load: newest first
	stop     chan struct{}
	finished chan struct{}
	once     sync.Once
}

// Load validates cfg, loads its certificate (or makes a self-signed one), its CA file,
// and returns the Manager serving them, logging one line that names the certificate.
// Errors say which file and why; nothing is started then.
func Load(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("tlsconf: no certificate file and no self-signed certificate")
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, stop: make(chan struct{}), finished: make(chan struct{})}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.cfg.WatchInterval == 0 {
		m.cfg.WatchInterval = defaultWatchInterval
	}
	if m.cfg.TicketKeyRotation <= 0 {
		m.cfg.TicketKeyRotation = defaultTicketKeyRotation
	}
	tlsCfg, err := m.baseConfig()
	if err != nil {
		return nil, err
	}
	m.tlsCfg = tlsCfg
	if err := m.loadFirst(); err != nil {
		return nil, err
	}
	if err := m.rotateTicketKey(); err != nil {
		return nil, err
	}
	go m.run()
	return m, nil
}

// baseConfig builds the tls.Config every handshake uses; only the certificate behind
// GetCertificate and the ticket keys change afterwards.
func (m *Manager) baseConfig() (*tls.Config, error) {
	suites, err := CipherSuites(m.cfg.Ciphers)
	if err != nil {
		return nil, err
	}
	c := &tls.Config{
		MinVersion:     m.cfg.MinVersion,
		CipherSuites:   suites,
		ClientAuth:     m.cfg.CertReqs.clientAuth(),
		GetCertificate: m.getCertificate,
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	if m.cfg.CACerts != "" {
		if c.ClientCAs, err = loadCAs(m.cfg.CACerts); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tlsconf: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("tlsconf: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

func (m *Manager) loadFirst() error {
	if m.cfg.SelfSigned {
		cert, err := SelfSigned()
		if err != nil {
			return fmt.Errorf("tlsconf: self-signed certificate: %w", err)
		}
		m.cert.Store(cert)
		m.log.Warn("serving a self-signed certificate (development only)", "names", "localhost,127.0.0.1,::1",
			"sha256", Fingerprint(cert.Certificate[0]), "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		return nil
	}
	m.loaded = m.statFiles()
	cert, err := loadKeyPair(m.cfg.CertFile, m.cfg.KeyFile, m.cfg.KeyFilePassword)
	if err != nil {
		return err
	}
	m.cert.Store(cert)
	m.log.Info("TLS certificate loaded", certAttrs(cert)...)
	return nil
}

// TLSConfig returns the config to serve with. Use it as it is, not a Clone: Reload
// takes effect through its GetCertificate, and the ticket key rotation through
// SetSessionTicketKeys on this very value. Callers may set NextProtos before the first
// handshake and nothing else.
func (m *Manager) TLSConfig() *tls.Config { return m.tlsCfg }

// Certificate returns the certificate new handshakes get.
func (m *Manager) Certificate() *tls.Certificate { return m.cert.Load() }

func (m *Manager) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.cert.Load(), nil
}

// Reload rereads the certificate and key files and, if they load and match, serves
// the new certificate to new handshakes; connections already open keep theirs. On
// failure the previous certificate stays and the error is returned. Either way one
// log line says what happened. A self-signed certificate is kept as it is.
func (m *Manager) Reload() error { return m.reload("reload") }

func (m *Manager) reload(trigger string) error {
	if m.cfg.SelfSigned {
		m.log.Info("TLS certificate is self-signed; nothing to reload", "trigger", trigger)
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loaded = m.statFiles() // before reading: a change during the read is seen next time
	cert, err := loadKeyPair(m.cfg.CertFile, m.cfg.KeyFile, m.cfg.KeyFilePassword)
	if err != nil {
		m.log.Error("TLS certificate reload failed; serving the previous certificate", "trigger", trigger, "err", err)
		return err
	}
	m.cert.Store(cert)
	m.log.Info("TLS certificate reloaded", append([]any{"trigger", trigger}, certAttrs(cert)...)...)
	return nil
}

// certAttrs are the log attributes naming cert: its subject, serial, expiry and
// fingerprint, the values `openssl x509 -noout -subject -serial -enddate
// -fingerprint -sha256` prints.
func certAttrs(cert *tls.Certificate) []any {
	leaf := cert.Leaf
	if leaf == nil {
		return []any{"sha256", Fingerprint(cert.Certificate[0])}
	}
	attrs := []any{"subject", leaf.Subject.String(), "serial", strings.ToUpper(leaf.SerialNumber.Text(16)),
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339), "sha256", Fingerprint(cert.Certificate[0])}
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		attrs = append(attrs, "warning", "the certificate is not valid now")
	}
	return attrs
}

// Close stops the file watch and the ticket key rotation. Handshakes keep working
// with the last certificate and keys. Safe to call more than once.
func (m *Manager) Close() {
	m.once.Do(func() { close(m.stop) })
	<-m.finished
}

// run is the background goroutine: the file watch and the ticket key rotation.
func (m *Manager) run() {
	defer close(m.finished)
	rotate := time.NewTicker(m.cfg.TicketKeyRotation)
	defer rotate.Stop()
	var watch <-chan time.Time
	if m.cfg.WatchInterval > 0 && !m.cfg.SelfSigned {
		t := time.NewTicker(m.cfg.WatchInterval)
		defer t.Stop()
		watch = t.C
	}
	for {
		select {
		case <-m.stop:
			return
		case <-watch:
			m.poll()
		case <-rotate.C:
			if err := m.rotateTicketKey(); err != nil {
				m.log.Error("session ticket key rotation failed; keeping the current keys", "err", err)
			}
		}
	}
}

// poll reloads when the files differ from the last load and did not change since the
// previous poll, so a certificate written a moment before its key is not tried alone.
func (m *Manager) poll() {
	sig := m.statFiles()
	m.mu.Lock()
	unchanged := sig == m.loaded
	m.mu.Unlock()
	if unchanged || sig != m.pending {
		m.pending = sig
		return
	}
	_ = m.reload("file change") // logged
}

// rotateTicketKey makes a new session ticket key, first in the list, and keeps the
// previous ones (up to TicketKeysKept in all) to decrypt older tickets.
func (m *Manager) rotateTicketKey() error {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return err
	}
	m.tickets = append([][32]byte{k}, m.tickets...)
	if len(m.tickets) > TicketKeysKept {
		m.tickets = m.tickets[:TicketKeysKept]
	}
	m.tlsCfg.SetSessionTicketKeys(m.tickets)
	return nil
}
