// Package tlsconf owns asgo's TLS configuration: the certificate and key files
// (encrypted keys included), client certificate verification, the minimum version and
// TLS 1.2 cipher suites, session ticket keys, the development self-signed certificate,
// and reloading the certificate without a restart. It builds the *tls.Config that the
// event loop's TLS transport serves with; it does no I/O on connections. Standard
// library only.
//
// Load returns a Manager. Its TLSConfig is used as it is, for every handshake:
//
//   - the certificate comes from GetCertificate, which reads an atomic pointer, so
//     Reload (SIGHUP in the asgo command) or a change of the certificate or key file
//     (polled every Config.WatchInterval, 5 s by default: modification time, size and
//     inode; a change must be seen on two polls in a row) swaps it for new handshakes
//     only. Open connections keep the certificate they were made with. A new
//     certificate that does not load (unreadable, no key, key mismatch, wrong password)
//     is logged and the previous one is kept;
//   - session tickets are on (TLS 1.2 tickets and TLS 1.3 PSK resumption), encrypted
//     with a key made every Config.TicketKeyRotation (1 h by default); the
//     TicketKeysKept (24) newest keys decrypt, so a session resumes for about a day and
//     a stolen key exposes at most a day of tickets;
//   - client certificates: CertNone asks for none, CertOptional verifies one if given
//     (tls.VerifyClientCertIfGiven), CertRequired refuses the handshake without one
//     (tls.RequireAndVerifyClientCert), both against Config.CACerts, which is read at
//     Load only (a changed CA file needs a restart).
//
// Encrypted keys: legacy OpenSSL PEM encryption ("Proc-Type: 4,ENCRYPTED", what
// `openssl rsa -aes256 -traditional` and OpenSSL 1.x's `openssl genrsa -aes256`
// write), through the standard library's deprecated x509.DecryptPEMBlock; and PKCS#8
// "ENCRYPTED PRIVATE KEY" with PBES2 (PBKDF2 with HMAC-SHA1/SHA-2, AES-CBC or
// DES-EDE3-CBC), what OpenSSL 3 writes by default, decrypted here with the standard
// library's PBKDF2 and AES. PKCS#8 with scrypt or PBES1 gets an error saying how to
// convert the key.
//
// Concurrency: Config is plain data, read once by Load; the Parse functions,
// CipherSuites, SelfSigned and Fingerprint are pure and safe for concurrent use; every
// Manager method is safe for concurrent use.
package tlsconf
