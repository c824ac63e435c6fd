package eventloop

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// TLS on the event loop (docs/ARCHITECTURE.md, "TLS"). A TLS listener is one of gnet's
// native listeners; its connections are told apart by their local address in OnOpen.
// crypto/tls has no sans-I/O API, so each TLS connection gets a tlsConn: a net.Conn
// bridge between gnet's buffers and a tls.Conn.
//
//   - The handshake runs on a short-lived goroutine (started by the first input, so a
//     connection that sends nothing costs none): the loop copies ciphertext into the
//     bridge and the goroutine's Read blocks on it; its writes go out through the
//     connection's flush. A handshakeSession holds the connection meanwhile: its
//     timer is Config.HandshakeTimeout.
//   - After the handshake the loop decrypts the records itself: the bridge's Read
//     serves gnet's input and then returns errWouldBlock, a net.Error whose Temporary
//     is true, which crypto/tls returns without poisoning the connection (its
//     readRecordOrCCS), so the loop reads plaintext until it would block and feeds
//     the session, HTTP/2 or HTTP/1.1 by ALPN. Re-check that behaviour of
//     crypto/tls/conn.go on every Go upgrade (TestTLSTemporaryReadError does).
//   - Output stays plaintext in the pending buffer, whoever queued it (the loop or an
//     app goroutine); flush, on the loop, encrypts all of it with one tls.Conn.Write,
//     so many small sends of one loop turn become few records, and hands the
//     ciphertext to gnet. Shared frames (broadcasts) are copied into the pending
//     output on TLS connections: each connection encrypts its own.

// tlsCounters counts the TLS handshakes' outcomes; Server.TLSStats reports them.
type tlsCounters struct {
	handshakes, failed, timedOut atomic.Int64
}

// TLSStats counts the TLS handshakes since the server started.
type TLSStats struct {
	// Handshakes completed.
	Handshakes int64
	// Failed handshakes (a client that is not TLS, no common protocol version or
	// cipher, a refused client certificate); each is logged at debug level.
	Failed int64
	// TimedOut handshakes: not completed within Config.HandshakeTimeout.
	TimedOut int64
}

// TLSStats returns the TLS handshake counters. Safe for concurrent use.
func (s *Server) TLSStats() TLSStats {
	return TLSStats{
		Handshakes: s.tlsStats.handshakes.Load(),
		Failed:     s.tlsStats.failed.Load(),
		TimedOut:   s.tlsStats.timedOut.Load(),
	}
}

// initTLS checks the TLS configuration and derives the one handshakes use.
func (s *Server) initTLS() error {
	if len(s.cfg.TLSBinds) == 0 {
		return nil
	}
	cfg := s.cfg.TLS
	if cfg == nil {
		return errors.New("eventloop: TLSBinds need a TLS configuration (Config.TLS)")
	}
	if len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		return errors.New("eventloop: the TLS configuration has no certificate")
	}
	if len(cfg.NextProtos) == 0 {
		cfg = cfg.Clone()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		if s.cfg.DisableHTTP2 {
			cfg.NextProtos = []string{"http/1.1"}
		}
	}
	s.tlsConfig = cfg
	if len(cfg.Certificates) == 1 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil {
		s.tlsServerCert = certPEM(cfg.Certificates[0].Certificate)
	}
	return nil
}

// certPEM returns the first certificate of a DER chain as a PEM string.
func certPEM(chain [][]byte) any {
	if len(chain) == 0 {
		return nil
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0]}))
}

// tlsListeners are the TLS binds' addresses, to recognise their connections.
type tlsListeners struct {
	addrs []*net.TCPAddr // IP nil: any local address (a wildcard bind)
}

// newTLSListeners returns the matcher of binds (ports resolved), nil if none.
func newTLSListeners(binds []string) *tlsListeners {
	if len(binds) == 0 {
		return nil
	}
	t := &tlsListeners{}
	for _, b := range binds {
		a, err := net.ResolveTCPAddr("tcp", b)
		if err != nil {
			continue // Start has bound it already, so it resolves
		}
		if a.IP != nil && a.IP.IsUnspecified() {
			a.IP = nil
		}
		t.addrs = append(t.addrs, a)
	}
	return t
}

// match reports whether a connection with local address la came in on a TLS listener.
func (t *tlsListeners) match(la net.Addr) bool {
	a, ok := la.(*net.TCPAddr)
	if !ok {
		return false
	}
	for _, b := range t.addrs {
		if b.Port == a.Port && (b.IP == nil || b.IP.Equal(a.IP)) {
			return true
		}
	}
	return false
}

// errWouldBlock is what the bridge's Read returns once the loop's input is used up.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "eventloop: no more TLS input for now" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true } // crypto/tls keeps the connection usable

// tlsConn is a TLS connection's state: the tls.Conn and the net.Conn under it.
type tlsConn struct {
	c  *conn
	tc *tls.Conn
	// local and remote are the connection's addresses (gnet's are loop-only, and
	// crypto/tls may ask for them on the handshake goroutine).
	local, remote net.Addr

	// Guarded by mu (shared with the handshake goroutine):
	mu          sync.Mutex
	cond        *sync.Cond // signals input or close to the handshake goroutine
	in          []byte     // ciphertext received during the handshake, not yet read
	out         []byte     // ciphertext produced, not yet handed to gnet
	handshaking bool       // the handshake goroutine runs: writes schedule a flush
	closed      bool

	// Owned by the loop goroutine:
	src      []byte // gnet's input during a loop decrypt (valid for the callback)
	srcRead  int    // bytes of src crypto/tls has read
	plain    []byte // decrypted input the session has not consumed yet
	started  bool   // the handshake goroutine was started
	ready    bool   // handshake done: records are decrypted on the loop
	notified bool   // close_notify queued
	ext      *tlsExtensions
}

// startTLS makes c a TLS connection that first completes its handshake. Loop only.
func (c *conn) startTLS() {
	t := &tlsConn{c: c, handshaking: true, local: c.gc.LocalAddr(), remote: c.gc.RemoteAddr()}
	t.cond = sync.NewCond(&t.mu)
	t.tc = tls.Server(t, c.srv.tlsConfig)
	c.tls = t
	c.session = &handshakeSession{}
	c.setTimer(c.srv.cfg.HandshakeTimeout)
}

// onTLSTraffic is onTraffic for a TLS connection. Loop only.
func (c *conn) onTLSTraffic() {
	t := c.tls
	if !t.ready {
		// Handshake: the goroutine reads the input from the bridge.
		data, _ := c.gc.Next(-1)
		if len(data) == 0 {
			return
		}
		t.mu.Lock()
		t.in = append(t.in, data...)
		if t.cond != nil {
			t.cond.Signal()
		}
		t.mu.Unlock()
		if !t.started {
			t.started = true
			go t.handshake()
		}
		return
	}
	l := c.loop
	l.now = time.Now()
	defer func() { l.now = time.Time{} }()
	if !t.decrypt() {
		return
	}
	data := t.plain
	for len(data) > 0 || c.needWake {
		c.needWake = false
		sess := c.session
		n, err := sess.onData(c, data)
		data = data[n:]
		if err != nil {
			c.closeAfterFlush()
			break
		}
		if c.session == sess || c.closed || c.closing {
			break
		}
	}
	t.keep(len(t.plain) - len(data))
	c.flush()
	if c.yielded {
		c.yielded = false
		if !c.closed {
			l.yield(c)
		}
	}
}

// minPlainRoom is the free space decrypt wants before each Read: a full record's
// plaintext, so that a record is not split over Reads.
const minPlainRoom = 16 << 10

// decrypt reads gnet's input through crypto/tls into t.plain until it would block. It
// returns false when the connection was closed (a bad record: crypto/tls has queued
// its alert). Loop only.
func (t *tlsConn) decrypt() bool {
	c := t.c
	t.src, _ = c.gc.Peek(-1)
	t.srcRead = 0
	defer func() {
		if t.srcRead > 0 {
			_, _ = c.gc.Discard(t.srcRead)
		}
		t.src, t.srcRead = nil, 0
	}()
	for {
		if cap(t.plain)-len(t.plain) < minPlainRoom {
			if t.plain == nil {
				t.plain, c.loop.plainSpare = c.loop.plainSpare, nil
			}
			if cap(t.plain)-len(t.plain) < minPlainRoom {
				grown := make([]byte, len(t.plain), len(t.plain)+2*minPlainRoom)
				copy(grown, t.plain)
				c.loop.recycle(t.plain)
				t.plain = grown
			}
		}
		n, err := t.tc.Read(t.plain[len(t.plain):cap(t.plain)])
		t.plain = t.plain[:len(t.plain)+n]
		switch {
		case err == nil:
			continue
		case err == errWouldBlock:
			return true
		case err == io.EOF:
			// close_notify: the client sends nothing more. Serve what arrived, then
			// close once the output is written.
			c.closeAfterFlush()
			return true
		default:
			c.srv.log.Debug("TLS record error; closing", "client", t.remote, "err", err)
			c.markGone()
			c.closeAfterFlush() // writes the alert crypto/tls queued
			return false
		}
	}
}

// keep drops the consumed first n bytes of t.plain; an empty buffer goes back to the
// loop, so an idle TLS connection holds no plaintext buffer. Loop only.
func (t *tlsConn) keep(n int) {
	rest := len(t.plain) - n
	switch {
	case rest == 0:
		if l := t.c.loop; l.plainSpare == nil {
			l.plainSpare = t.plain[:0]
		} else {
			l.recycle(t.plain)
		}
		t.plain = nil
	case n > 0:
		copy(t.plain, t.plain[n:])
		t.plain = t.plain[:rest]
	}
}

// flushTLS is flush for a TLS connection: it encrypts the pending output and hands
// the ciphertext to gnet. Loop only.
func (c *conn) flushTLS() {
	t := c.tls
	c.mu.Lock()
	c.copyRefLocked()
	buf := c.pending
	if len(buf) > 0 {
		c.pending = nil
	}
	c.flushQueued = false
	c.mu.Unlock()
	if len(buf) > 0 {
		if t.ready {
			_, _ = t.tc.Write(buf) // appends the records to t.out (Write below)
		}
		c.loop.recycle(buf)
	}
	if c.closing && t.ready && !t.notified {
		c.mu.Lock()
		idle := len(c.pending) == 0
		c.mu.Unlock()
		if idle {
			t.notified = true
			_ = t.tc.CloseWrite() // close_notify
		}
	}
	t.mu.Lock()
	out := t.out
	t.out = nil
	t.mu.Unlock()
	if len(out) > 0 {
		if int(c.outbound.Load()) > c.srv.cfg.MaxUnsentBytes && c.gc.OutboundBuffered() > c.srv.cfg.MaxUnsentBytes {
			c.overCap += len(out)
		}
		c.loop.writes++
		ok := c.writeOut(out)
		c.written += int64(len(out))
		c.loop.recycle(out)
		if !ok {
			c.abort()
			return
		}
	}
	c.afterWrite()
	if !c.closed {
		c.session.onFlushed(c)
	}
}

// handshake runs the TLS handshake on its own goroutine, then has the loop continue.
func (t *tlsConn) handshake() {
	err := t.tc.Handshake()
	c := t.c
	run := gnet.RunnableFunc(func(context.Context) error {
		c.loop.guard(c, func() { c.handshakeDone(err) })
		return nil
	})
	if c.loop.el.Execute(context.Background(), run) != nil {
		t.close() // the engine stops: the connection is closed with it
	}
}

// handshakeDone switches a TLS connection whose handshake ended to its protocol, or
// closes it. Loop only.
func (c *conn) handshakeDone(err error) {
	t := c.tls
	t.mu.Lock()
	t.handshaking = false
	t.cond = nil // the handshake goroutine has returned: nothing waits any more
	t.mu.Unlock()
	if c.closed || c.lingering || c.closing {
		return
	}
	s := c.srv
	if err != nil {
		s.tlsStats.failed.Add(1)
		s.log.Debug("TLS handshake failed", "client", t.remote, "err", err)
		c.markGone()
		c.closeAfterFlush() // the alert crypto/tls queued, then close
		return
	}
	s.tlsStats.handshakes.Add(1)
	t.ready = true
	t.setExtensions(s)
	c.setTimer(s.cfg.HeaderTimeout)
	if t.tc.ConnectionState().NegotiatedProtocol == "h2" && !s.cfg.DisableHTTP2 {
		startHTTP2(c)
	} else {
		c.session = firstSession()
	}
	c.onTLSTraffic() // records that arrived with the client's Finished
}

// tlsExtensions are the scope extensions of a TLS connection's requests: the server's,
// plus ASGI's "tls" extension. Shared and read-only.
type tlsExtensions struct{ http, ws map[string]any }

// tlsExtKey identifies connections whose extensions are the same: no client
// certificate, one protocol version and cipher suite. They share one tlsExtensions
// (Server.tlsExts), so an idle connection holds no maps of its own.
type tlsExtKey struct{ version, cipher uint16 }

// setExtensions sets the connection's scope extensions. Loop only.
func (t *tlsConn) setExtensions(s *Server) {
	st := t.tc.ConnectionState()
	if len(st.PeerCertificates) > 0 {
		t.ext = newTLSExtensions(s, st)
		return
	}
	key := tlsExtKey{st.Version, st.CipherSuite}
	if e, ok := s.tlsExts.Load(key); ok {
		t.ext = e.(*tlsExtensions)
		return
	}
	e, _ := s.tlsExts.LoadOrStore(key, newTLSExtensions(s, st))
	t.ext = e.(*tlsExtensions)
}

func newTLSExtensions(s *Server, st tls.ConnectionState) *tlsExtensions {
	chain := []any{}
	for _, cert := range st.PeerCertificates {
		chain = append(chain, certPEM([][]byte{cert.Raw}))
	}
	ext := map[string]any{
		"server_cert":       s.tlsServerCert,
		"client_cert_chain": chain,
		"tls_version":       int(st.Version),
		"cipher_suite":      int(st.CipherSuite),
	}
	e := &tlsExtensions{http: make(map[string]any, len(httpExtensions)+1), ws: make(map[string]any, len(wsExtensions)+1)}
	for k, v := range httpExtensions {
		e.http[k] = v
	}
	e.http[asgi.ExtTLS] = ext
	for k, v := range wsExtensions {
		e.ws[k] = v
	}
	e.ws[asgi.ExtTLS] = ext
	return e
}

// httpScheme and wsScheme are the connection's scope schemes; httpExt and wsExt its
// scopes' extensions (shared, read-only). Loop only.
func (c *conn) httpScheme() string {
	if c.tls != nil {
		return "https"
	}
	return "http"
}

func (c *conn) wsScheme() string {
	if c.tls != nil {
		return "wss"
	}
	return "ws"
}

func (c *conn) httpExt() map[string]any {
	if c.tls != nil {
		return c.tls.ext.http
	}
	return httpExtensions
}

func (c *conn) wsExt() map[string]any {
	if c.tls != nil {
		return c.tls.ext.ws
	}
	return wsExtensions
}

// close ends the bridge: the handshake goroutine's Read fails. Safe for concurrent use.
func (t *tlsConn) close() {
	t.mu.Lock()
	t.closed = true
	t.in = nil
	if t.cond != nil {
		t.cond.Broadcast()
	}
	t.mu.Unlock()
}

// Read is crypto/tls's input. During the handshake (the goroutine) it blocks until the
// loop fed some input; afterwards (the loop) it serves the input left from the
// handshake, then gnet's, then errWouldBlock.
func (t *tlsConn) Read(p []byte) (int, error) {
	t.mu.Lock()
	for len(t.in) == 0 && t.handshaking && !t.closed {
		t.cond.Wait()
	}
	if len(t.in) > 0 {
		n := copy(p, t.in)
		t.in = t.in[n:]
		if len(t.in) == 0 {
			t.in = nil
		}
		t.mu.Unlock()
		return n, nil
	}
	closed := t.closed
	t.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	if t.srcRead < len(t.src) {
		n := copy(p, t.src[t.srcRead:])
		t.srcRead += n
		return n, nil
	}
	return 0, errWouldBlock
}

// Write is crypto/tls's output: it is queued for the loop's next flush. The handshake
// goroutine's writes schedule that flush; the loop's (flushTLS, alerts while reading)
// are flushed by the loop's event.
func (t *tlsConn) Write(p []byte) (int, error) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return 0, net.ErrClosed
	}
	if t.out == nil && !t.handshaking {
		t.out = t.c.loop.takeBuf()
	}
	t.out = append(t.out, p...)
	schedule := t.handshaking
	t.mu.Unlock()
	if schedule {
		c := t.c
		c.mu.Lock()
		c.scheduleFlushLocked()
		c.mu.Unlock()
	}
	return len(p), nil
}

// Close is called by crypto/tls only through tls.Conn.Close, which asgo does not use;
// the connection is closed by the loop.
func (t *tlsConn) Close() error { t.close(); return nil }

func (t *tlsConn) LocalAddr() net.Addr  { return t.local }
func (t *tlsConn) RemoteAddr() net.Addr { return t.remote }

// Deadlines do not apply: the handshake timeout is on the loop's timer wheel, and
// writes never block.
func (t *tlsConn) SetDeadline(time.Time) error      { return nil }
func (t *tlsConn) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsConn) SetWriteDeadline(time.Time) error { return nil }

// handshakeSession holds a TLS connection until its handshake completes: its input
// goes to the handshake goroutine (onTLSTraffic), never here.
type handshakeSession struct{}

func (handshakeSession) onData(*conn, []byte) (int, error) { return 0, nil }
func (handshakeSession) onFlushed(*conn)                   {}

// onTimer: the handshake did not complete within HandshakeTimeout.
func (handshakeSession) onTimer(c *conn) {
	c.srv.tlsStats.timedOut.Add(1)
	c.srv.log.Info("TLS handshake timed out", "client", c.tls.remote)
	c.abort()
}

func (handshakeSession) onDrain(c *conn) { c.abort() }

func (handshakeSession) onClose(c *conn) { c.tls.close() }
