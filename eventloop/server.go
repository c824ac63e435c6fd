package eventloop

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Server serves an asgi.App on gnet event loops. Create it with New, then Start;
// Shutdown drains it gracefully. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	app  asgi.App
	log  *slog.Logger
	exec *executor

	mu       sync.Mutex
	loops    map[gnet.EventLoop]*loop
	eng      gnet.Engine
	engReady chan struct{} // closed once eng's loops run (its first tick)
	addrs    []net.Addr
	adopted  []*adoptedListener // listeners with an accept goroutine (listeners.go)
	acceptWG sync.WaitGroup
	// placeholder: no TCP bind was asked for, so gnet's only native listener is a
	// loopback placeholder whose connections are refused.
	placeholder bool
	nativeBinds []*net.TCPAddr // gnet's own listeners' addresses (handover.go)
	nativeFDs   []nativeFD     // and their descriptors, every loop's, found by Start
	nativeErr   error
	stopped     chan struct{} // closed when the engine has stopped for good

	draining atomic.Bool
	stopping atomic.Bool
	handover atomic.Bool  // StopAccepting(true): another process took the listeners over
	nconns   atomic.Int64 // open connections
	inflight atomic.Int64 // requests whose app is running

	bodyShared memBudget  // Config.BodyMemoryShared
	bodySpool  diskBudget // Config.BodySpoolShared

	turnRequests int // HTTP/1.1 requests one traffic callback starts (h1Session)
	sharedRound  int // bytes of shared frames and files a loop writes between two polls (shared.go)
	// recycle: the app keeps nothing of its inline calls (asgi.CanRecycle), so their
	// HTTP/1.1 streams, scopes and receive/send are reused. Set by Start.
	recycle bool

	// tlsListen tells the TLS listeners' connections apart (nil: none); tlsConfig is
	// Config.TLS with the ALPN protocols filled in. Set by Start.
	tlsListen *tlsListeners
	tlsConfig *tls.Config
	tlsStats  tlsCounters
	// tlsServerCert is the TLS extension's server_cert: the PEM of the configuration's
	// only static certificate, nil when callbacks choose it.
	tlsServerCert any
	tlsExts       sync.Map // tlsExtKey -> *tlsExtensions (tls.go)

	access    *accessLog // nil: the default access log (logAccess), or none
	accessErr error      // an invalid Config.AccessLogFormat, reported by Start

	statsMu  sync.Mutex
	allStats []*loopStats // Guarded by statsMu: every loop's counters (stats.go)
}

// New returns a server for app. cfg is normalised (see Config).
func New(cfg Config, app asgi.App) *Server {
	cfg = cfg.Normalize()
	access, accessErr := newAccessLog(&cfg)
	return &Server{
		access:       access,
		accessErr:    accessErr,
		cfg:          cfg,
		app:          app,
		log:          cfg.Logger,
		exec:         newExecutor(),
		loops:        make(map[gnet.EventLoop]*loop),
		stopped:      make(chan struct{}),
		bodyShared:   memBudget{limit: max(cfg.BodyMemoryShared, 0)},
		bodySpool:    diskBudget{limit: max(cfg.BodySpoolShared, 0)},
		turnRequests: turnRequests,
		sharedRound:  sharedRoundBytes,
	}
}

// Config returns the normalised configuration.
func (s *Server) Config() Config { return s.cfg }

// Start binds the listeners and runs the event loops in the background. It returns once
// the server accepts connections, or with the error that prevented it.
func (s *Server) Start() error {
	if err := s.openAccessLog(); err != nil {
		return fmt.Errorf("eventloop: %w", err)
	}
	err := s.start()
	if err != nil {
		s.closeAccessLog()
	}
	return err
}

func (s *Server) start() error {
	s.recycle = asgi.CanRecycle(s.app)
	adopted, err := openAdopted(&s.cfg)
	if err != nil {
		return err
	}
	if err := s.initTLS(); err != nil {
		closeAdopted(adopted)
		return err
	}
	binds := append(append([]string(nil), s.cfg.Binds...), s.cfg.TLSBinds...)
	if len(s.cfg.Inherited) > 0 {
		binds = nil // the parent bound them: their sockets are among the inherited
	}
	switch {
	case len(binds) == 0 && len(adopted) == 0:
		binds = []string{defaultBind}
	case len(binds) == 0:
		// gnet's Engine (Register, Stop) refuses to work without a listener of its
		// own: give it one on a free loopback port that closes whatever it accepts.
		binds = []string{"127.0.0.1:0"}
		s.placeholder = true
	}
	binds, reservations, err := reservePorts(binds)
	defer func() {
		for _, r := range reservations {
			r.close()
		}
	}()
	if err != nil {
		closeAdopted(adopted)
		return err
	}
	firstTLS := firstTLSBind(len(binds), s.cfg)
	if !s.placeholder && firstTLS < len(binds) {
		s.tlsListen = newTLSListeners(binds[firstTLS:])
	}
	booted := make(chan error, 1)
	go s.supervise(binds, booted)
	if err := <-booted; err != nil {
		closeAdopted(adopted)
		return err
	}
	for i, b := range binds {
		if s.placeholder {
			s.log.Debug("placeholder gnet listener (refuses every connection)", "addr", b)
			break
		}
		addr, _ := net.ResolveTCPAddr("tcp", b)
		s.addrs = append(s.addrs, addr)
		s.nativeBinds = append(s.nativeBinds, addr)
		if i >= firstTLS {
			s.log.Info("listening with TLS", "addr", addr.String(), "loops", s.cfg.Loops)
			continue
		}
		s.log.Info("listening", "addr", addr.String(), "loops", s.cfg.Loops)
	}
	s.adopted = adopted
	s.findNativeFDs() // handover.go
	seen := map[string]bool{}
	for _, a := range adopted {
		s.acceptWG.Add(1)
		go s.acceptLoop(a)
		if seen[a.desc] {
			continue // an upgraded native bind: one inherited listener per old loop
		}
		seen[a.desc] = true
		s.addrs = append(s.addrs, a.tag.addr)
		s.log.Info("listening", "addr", a.desc, "loops", s.cfg.Loops)
	}
	if err := s.sdNotify("READY=1\nMAINPID=" + strconv.Itoa(os.Getpid())); err != nil {
		s.log.Warn("sd_notify READY failed", "err", err)
	}
	return nil
}

func closeAdopted(adopted []*adoptedListener) {
	for _, a := range adopted {
		a.close()
	}
}

// supervise runs the gnet engine and restarts it if it stops on its own (gnet stops
// the engine on accept errors such as EMFILE); it gives up after repeated failures.
func (s *Server) supervise(binds []string, booted chan<- error) {
	defer close(s.stopped)
	addrs := make([]string, len(binds))
	for i, b := range binds {
		addrs[i] = "tcp://" + b
	}
	h := &engineHandler{s: s, booted: booted}
	failures := 0
	for {
		start := time.Now()
		err := gnet.Rotate(h, addrs,
			gnet.WithNumEventLoop(s.cfg.Loops),
			gnet.WithReusePort(true),
			gnet.WithReuseAddr(true),
			gnet.WithTicker(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			// Only Engine.Register (adopted listeners) uses the balancer: the native
			// listeners are per loop (SO_REUSEPORT). Round robin's index is not safe
			// for concurrent Register calls; least connections only reads counters.
			gnet.WithLoadBalancing(gnet.LeastConnections),
			gnet.WithLogger(gnetLogger{s.log}),
		)
		if h.booted != nil {
			// Never booted: report the bind error to Start.
			h.booted <- fmt.Errorf("eventloop: %w", err)
			return
		}
		if s.stopping.Load() {
			return
		}
		if time.Since(start) > time.Minute {
			failures = 0
		}
		failures++
		s.log.Error("event loops stopped unexpectedly; restarting", "err", err, "attempt", failures)
		if failures > 5 {
			s.log.Error("event loops keep failing; giving up")
			return
		}
		time.Sleep(100 * time.Millisecond * time.Duration(failures))
		s.mu.Lock()
		s.loops = make(map[gnet.EventLoop]*loop)
		s.mu.Unlock()
	}
}

// Addrs returns the addresses the server listens on (with ports resolved): Binds,
// then TLSBinds, then the Unix, inherited and uwsgi listeners.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// Done is closed when the server has stopped for good.
func (s *Server) Done() <-chan struct{} { return s.stopped }

// Connections returns the number of open connections.
func (s *Server) Connections() int { return int(s.nconns.Load()) }

// Shutdown drains the server: new connections are refused, idle connections are
// closed, requests in flight complete (their responses carry Connection: close),
// upgraded connections finish as their protocol prescribes; then the loops stop.
// It returns ctx's error if the drain did not finish before ctx was done (or before
// Config.GracefulTimeout when ctx has no deadline); the loops are stopped either way.
func (s *Server) Shutdown(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.GracefulTimeout)
		defer cancel()
	}
	s.draining.Store(true)
	if s.handover.Load() {
		// The service goes on in the process that took the listeners over.
	} else if err := s.sdNotify("STOPPING=1"); err != nil {
		s.log.Warn("sd_notify STOPPING failed", "err", err)
	}
	s.forEachLoop(func(l *loop) {
		l.each(func(c *conn) {
			if !c.lingering {
				l.guard(c, func() { c.session.onDrain(c); c.flush() })
			}
		})
	})
	var err error
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for s.nconns.Load() > 0 && err == nil {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			s.log.Warn("graceful shutdown timed out; closing remaining connections", "connections", s.nconns.Load())
		case <-t.C:
		}
	}
	s.stop()
	return err
}

// Close stops the server at once, closing every connection.
func (s *Server) Close() error {
	s.stop()
	return nil
}

func (s *Server) stop() {
	if s.stopping.Swap(true) {
		<-s.stopped
		return
	}
	s.mu.Lock()
	eng := s.eng
	s.mu.Unlock()
	closeAdopted(s.adopted)
	s.acceptWG.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := eng.Stop(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		s.log.Debug("engine stop", "err", err)
	}
	<-s.stopped
	s.mu.Lock()
	for _, l := range s.loops {
		if l.resumer != nil {
			l.resumer.close() // the loops have ended: no one writes to it any more
		}
	}
	s.mu.Unlock()
	s.closeAccessLog()
}

// forEachLoop runs f on every loop's goroutine and waits until all have run it.
func (s *Server) forEachLoop(f func(*loop)) {
	s.mu.Lock()
	loops := make([]*loop, 0, len(s.loops))
	for _, l := range s.loops {
		loops = append(loops, l)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		err := l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			defer wg.Done()
			f(l)
			return nil
		}))
		if err != nil {
			wg.Done()
		}
	}
	wg.Wait()
}

func (s *Server) loopFor(el gnet.EventLoop) *loop {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.loops[el]
	if l == nil {
		l = newLoop(s, el)
		s.loops[el] = l
	}
	return l
}

// state returns a new scope's State, reading through to the lifespan state.
func (s *Server) state() *asgi.State { return asgi.NewState(s.lifespanState()) }

// lifespanState returns the lifespan state (nil without one).
func (s *Server) lifespanState() map[string]any {
	if s.cfg.State == nil {
		return nil
	}
	return s.cfg.State()
}

// engineHandler adapts gnet's callbacks to the Server.
type engineHandler struct {
	gnet.BuiltinEventEngine
	s      *Server
	booted chan<- error
	ready  chan struct{} // the current engine's engReady, closed by its first tick
}

// OnBoot runs before gnet creates the loops; the engine is ready for Register (and
// Start returns) at its first tick, which gnet starts after the loops.
func (h *engineHandler) OnBoot(eng gnet.Engine) gnet.Action {
	h.ready = make(chan struct{})
	h.s.mu.Lock()
	h.s.eng = eng
	h.s.engReady = h.ready
	h.s.mu.Unlock()
	return gnet.None
}

func (h *engineHandler) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	if r, ok := gc.Context().(*resumer); ok { // the loop's own socket (resume.go)
		r.ready = r.wfd >= 0
		return nil, gnet.None
	}
	s := h.s
	tag, adopted := gc.Context().(*listenerTag)
	if !adopted && s.placeholder {
		return nil, gnet.Close // only adopted listeners serve (see Start)
	}
	secure := adopted && tag.tls || !adopted && s.tlsListen != nil && s.tlsListen.match(gc.LocalAddr())
	if s.draining.Load() && !s.handover.Load() {
		// (After a handover, a connection accepted just before StopAccepting is served.)
		s.loopFor(gc.EventLoop()).stats.reject(RejectDraining)
		return refuseConnection(secure, "server is shutting down"), gnet.Close
	}
	if s.cfg.ProxyProtocol && !s.proxyPeerTrusted(gc) { // proxyproto.go
		s.log.Warn("PROXY protocol: connection from an untrusted peer; closing", "client", gc.RemoteAddr())
		return nil, gnet.Close
	}
	if s.nconns.Add(1) > int64(s.cfg.MaxConnections) {
		s.nconns.Add(-1)
		s.loopFor(gc.EventLoop()).stats.reject(RejectConnections)
		s.log.Warn("connection limit reached; refusing connection", "limit", s.cfg.MaxConnections)
		return refuseConnection(secure, "server is at its connection limit"), gnet.Close
	}
	l := s.loopFor(gc.EventLoop())
	if l.resumer == nil {
		l.startResumer()
	}
	c := &conn{gc: gc, loop: l, srv: s}
	if adopted {
		tag.setAddrs(c) // an adopted listener's connection (listeners.go)
	}
	c.timer.owner = c
	c.session = firstSession()
	if adopted && tag.uwsgi {
		c.session = newUWSGISession() // a --uwsgi-bind connection
	}
	if s.cfg.ProxyProtocol {
		// The PROXY header comes first (before the TLS handshake on a TLS listener).
		c.session = &proxySession{next: c.session, tls: secure}
	}
	gc.SetContext(c)
	l.add(c)
	l.stats.connOpened(c.session)
	if secure && !s.cfg.ProxyProtocol {
		c.startTLS() // the handshake comes first, on its own timer
		return nil, gnet.None
	}
	c.setTimer(s.cfg.HeaderTimeout)
	return nil, gnet.None
}

func (h *engineHandler) OnTraffic(gc gnet.Conn) gnet.Action {
	if r, ok := gc.Context().(*resumer); ok {
		r.l.resume(gc)
		return gnet.None
	}
	c, ok := gc.Context().(*conn)
	if !ok || c.closed || c.lingering {
		_, _ = gc.Discard(-1)
		return gnet.None
	}
	c.loop.guard(c, func() { c.onTraffic() })
	return gnet.None
}

func (h *engineHandler) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*conn)
	if !ok {
		return gnet.None
	}
	c.closed = true
	h.s.nconns.Add(-1)
	c.loop.wheel.disarm(&c.timer)
	c.loop.remove(c)
	c.loop.stats.connClosed(c.session)
	if !c.lingering { // a lingering connection's session has seen its end already
		c.markGone()
		c.loop.guard(c, func() { c.session.onClose(c) })
	}
	if err != nil && !isConnReset(err) {
		h.s.log.Debug("connection closed", "client", gc.RemoteAddr(), "err", err)
	}
	return gnet.None
}

func isConnReset(err error) bool {
	s := err.Error()
	return strings.Contains(s, "reset by peer") || strings.Contains(s, "EOF") || strings.Contains(s, "broken pipe")
}

func (h *engineHandler) OnTick() (time.Duration, gnet.Action) {
	s := h.s
	if h.ready != nil {
		close(h.ready)
		h.ready = nil
		if h.booted != nil {
			h.booted <- nil
			h.booted = nil
		}
	}
	s.mu.Lock()
	loops := make([]*loop, 0, len(s.loops))
	for _, l := range s.loops {
		loops = append(loops, l)
	}
	s.mu.Unlock()
	for _, l := range loops {
		_ = l.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
			l.tick(time.Now())
			return nil
		}))
	}
	return tickInterval, gnet.None
}

// firstTLSBind is the index of the first TLS bind among the n native binds Start
// listens on: the TLS binds come last; the default or placeholder bind, used when
// nothing was configured to listen on (with Systemd on, Normalize leaves Binds empty),
// and the inherited listeners' stand-in are cleartext.
func firstTLSBind(n int, cfg Config) int {
	if len(cfg.Inherited) > 0 || len(cfg.TLSBinds) == 0 || len(cfg.TLSBinds) > n {
		return n
	}
	return n - len(cfg.TLSBinds)
}
