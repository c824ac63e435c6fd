package peer

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

// Routes served by every peer that supports the scenario behind them.
const (
	// HelloPath answers GET with HelloBody as text/plain.
	HelloPath = "/"
	// EchoPath answers POST with the request body, as application/octet-stream.
	EchoPath = "/echo"
	// WebSocketPath upgrades to WebSocket and echoes every message with its opcode.
	WebSocketPath = "/ws"
	// BroadcastPath upgrades to WebSocket and joins one room: every message a member sends
	// goes to every member, the sender included, as asgo's demo chat does.
	BroadcastPath = "/broadcast"
)

// BroadcastQueue is how many messages a member may have queued before a peer with
// per-member queues drops it, as a chat room drops a slow member.
const BroadcastQueue = 256

// MaxBodyBytes is the request-body (for nbio: buffered-request) limit of peers that have
// one: above the fairness scenario's 64 MiB uploads, which would otherwise be refused or,
// by nbio, stalled.
const MaxBodyBytes = 128 << 20

// HelloBody is the body of the hello route.
var HelloBody = []byte("Hello, World!")

// Config is what a peer is told on its command line. Its zero value is not used: Parse
// fills it with the defaults documented on each flag.
type Config struct {
	// Addr is the TCP address to listen on.
	Addr string
	// Loops is the number of event loops or pollers for servers that have them;
	// 0 means one per usable CPU.
	Loops int
	// KeepAlive is how long an idle keep-alive connection is kept open.
	KeepAlive time.Duration
	// CertFile and KeyFile, when set, make the server listen with TLS (PEM files).
	CertFile, KeyFile string
}

// Parse reads the peer flags from os.Args. It exits the process on a bad flag, as the
// flag package does.
func Parse() Config {
	var c Config
	flag.StringVar(&c.Addr, "addr", "127.0.0.1:8000", "TCP address to listen on")
	flag.IntVar(&c.Loops, "loops", 0, "event loops or pollers (0 = one per usable CPU)")
	flag.DurationVar(&c.KeepAlive, "keepalive", 10*time.Minute, "idle keep-alive timeout")
	flag.StringVar(&c.CertFile, "cert", "", "TLS certificate (PEM); with -key, serve TLS")
	flag.StringVar(&c.KeyFile, "key", "", "TLS private key (PEM)")
	flag.Parse()
	if c.Loops <= 0 {
		c.Loops = runtime.GOMAXPROCS(0)
	}
	return c
}

// Listening reports the bound address on stderr, in the same form as asgo's log line.
func Listening(addr string) {
	fmt.Fprintf(os.Stderr, "msg=listening addr=%s\n", addr)
}

// WaitSignal blocks until SIGINT or SIGTERM arrives.
func WaitSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	<-ch
}

// Fatal prints err with the peer's name and exits with status 1.
func Fatal(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// ListenAndServe runs srv with TLS when the config has a certificate (net/http then
// offers HTTP/2 by ALPN beside HTTP/1.1), else in cleartext.
func (c Config) ListenAndServe(srv *http.Server) error {
	if c.CertFile != "" {
		return srv.ListenAndServeTLS(c.CertFile, c.KeyFile)
	}
	return srv.ListenAndServe()
}
