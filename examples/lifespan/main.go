// Command lifespan opens shared state once at startup (a stand-in for a database
// connection pool), hands it to every request through scope.State, and closes it at
// shutdown, after the server has drained.
//
//	go run ./examples/lifespan --bind 127.0.0.1:8000 --lifespan on
//	curl http://127.0.0.1:8000/
//	POOL_FAIL=1 go run ./examples/lifespan   # startup fails: exit status 3
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// stateKey is the key of the pool in the lifespan state.
const stateKey = "pool"

// pool stands for a connection pool: a fixed set of connections that requests borrow.
type pool struct {
	conns  chan int
	opened time.Time
	served atomic.Int64
}

func openPool(size int) (*pool, error) {
	if os.Getenv("POOL_FAIL") != "" {
		return nil, errors.New("cannot reach the database")
	}
	p := &pool{conns: make(chan int, size), opened: time.Now()}
	for i := 1; i <= size; i++ {
		p.conns <- i
	}
	return p, nil
}

// query borrows a connection, waiting for one while ctx lasts.
func (p *pool) query(ctx context.Context) (conn int, err error) {
	select {
	case conn = <-p.conns:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { p.conns <- conn }()
	p.served.Add(1)
	return conn, nil
}

// close waits for the borrowed connections to come back and closes the pool.
func (p *pool) close(ctx context.Context) error {
	for i := 0; i < cap(p.conns); i++ {
		select {
		case <-p.conns:
		case <-ctx.Done():
			return fmt.Errorf("%d connections still borrowed: %w", cap(p.conns)-i, ctx.Err())
		}
	}
	return nil
}

func app(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch s := scope.(type) {
	case *asgi.LifespanScope:
		return lifespan(ctx, s, receive, send)
	case *asgi.HTTPScope:
		// scope.State reads what startup stored (copied only if a request writes): the
		// same *pool.
		p, ok := s.State.Get(stateKey).(*pool)
		if !ok {
			return errors.New("no pool in the scope state: was the lifespan run?") // 500
		}
		conn, err := p.query(ctx)
		if err != nil {
			return err
		}
		body := fmt.Sprintf("served by connection %d of the pool opened at %s\n", conn, p.opened.Format(time.RFC3339))
		if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: asgi.H(
			"content-type", "text/plain; charset=utf-8", "content-length", strconv.Itoa(len(body)))}); err != nil {
			return err
		}
		return send(ctx, &asgi.HTTPResponseBody{Body: []byte(body)})
	}
	return nil // WebSocket: refused (403)
}

// lifespan runs for the whole life of the server: lifespan.startup comes before the
// first connection is accepted, lifespan.shutdown after the drain. Each needs exactly
// one reply.
func lifespan(ctx context.Context, scope *asgi.LifespanScope, receive asgi.Receive, send asgi.Send) error {
	var p *pool
	for {
		msg, err := receive(ctx)
		if err != nil {
			return err
		}
		switch msg.(type) {
		case *asgi.LifespanStartup:
			p, err = openPool(4)
			if err != nil {
				// The server logs the message and exits (asgo.Run: status 3).
				return send(ctx, &asgi.LifespanStartupFailed{Message: err.Error()})
			}
			scope.State[stateKey] = p // every request's scope.State reads it
			slog.Info("pool opened", "size", cap(p.conns))
			if err := send(ctx, &asgi.LifespanStartupComplete{}); err != nil {
				return err
			}
		case *asgi.LifespanShutdown:
			if err := p.close(ctx); err != nil {
				return send(ctx, &asgi.LifespanShutdownFailed{Message: err.Error()})
			}
			slog.Info("pool closed", "queries", p.served.Load())
			return send(ctx, &asgi.LifespanShutdownComplete{})
		}
	}
}

func main() { asgo.Run(asgi.AppFunc(app)) }
