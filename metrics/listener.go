package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures a metrics Listener.
type Config struct {
	// Addr is the HOST:PORT to listen on (port 0 picks a free port).
	Addr string
	// Source is the server whose counters are exported (*eventloop.Server, started
	// with Config.Stats on); /healthz answers 503 once it drains.
	Source Source
	// Pools, if set, lists the WSGI-style pools to report at each scrape.
	Pools func() []Pool
	// Logger receives the listener's errors; nil means slog.Default().
	Logger *slog.Logger
}

// Listener serves /metrics and /healthz on a net/http server of its own goroutine,
// apart from the event loops and the app. Its methods are safe for concurrent use.
type Listener struct {
	ln  net.Listener
	srv *http.Server
	reg *prometheus.Registry
}

// Listen binds cfg.Addr and serves in the background until Close:
//
//   - /metrics: the Prometheus text format (or OpenMetrics, as the scraper asks) of a
//     registry of its own: the server's Collector, the Go runtime and process
//     collectors;
//   - /healthz: 200 "ok" while the server serves, 503 "draining" once its graceful
//     shutdown began.
//
// Every other path is 404.
func Listen(cfg Config) (*Listener, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(cfg.Source, cfg.Pools),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogLogger{log}}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if cfg.Source.Draining() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	l := &Listener{ln: ln, reg: reg, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	return l, nil
}

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Registry returns the listener's registry, for an app that wants to add its own
// collectors to /metrics.
func (l *Listener) Registry() *prometheus.Registry { return l.reg }

// Close stops the listener, letting scrapes in progress finish within ctx.
func (l *Listener) Close(ctx context.Context) error { return l.srv.Shutdown(ctx) }

// slogLogger gives promhttp's error log a slog destination.
type slogLogger struct{ log *slog.Logger }

func (s slogLogger) Println(v ...any) { s.log.Error("metrics: scrape failed", "err", v) }
