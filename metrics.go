package asgo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/metrics"
)

// startMetrics opens the --metrics-bind listener for srv, or does nothing without
// addr. The returned func closes it (Serve defers it: /healthz answers 503 through
// the drain, then the listener goes).
func startMetrics(addr string, srv *eventloop.Server, log *slog.Logger) (func(), error) {
	if addr == "" {
		return func() {}, nil
	}
	l, err := metrics.Listen(metrics.Config{Addr: addr, Source: srv, Pools: wsgiPools, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	log.Info("metrics listening", "addr", l.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	}, nil
}

// wsgiPools lists the process's WSGI-style pools for the metrics.
func wsgiPools() []metrics.Pool {
	pools := wsgi.Pools()
	out := make([]metrics.Pool, len(pools))
	for i, p := range pools {
		out[i] = p
	}
	return out
}
