package main

import (
	"context"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
)

func main() {
	cfg := peer.Parse()
	hlog.SetLevel(hlog.LevelError)
	h := server.New(
		server.WithHostPorts(cfg.Addr),
		server.WithIdleTimeout(cfg.KeepAlive),
		server.WithReadTimeout(cfg.KeepAlive),
		server.WithMaxRequestBodySize(peer.MaxBodyBytes),
		server.WithExitWaitTime(100*time.Millisecond),
		server.WithDisablePrintRoute(true),
	)
	h.GET(peer.HelloPath, func(_ context.Context, c *app.RequestContext) {
		c.Data(200, "text/plain", peer.HelloBody)
	})
	h.POST(peer.EchoPath, func(_ context.Context, c *app.RequestContext) {
		c.Data(200, "application/octet-stream", c.Request.Body())
	})
	peer.Listening(cfg.Addr)
	h.Spin()
}
