package main

import (
	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/valyala/fasthttp"
)

func main() {
	cfg := peer.Parse()
	srv := &fasthttp.Server{
		Handler:            handle,
		IdleTimeout:        cfg.KeepAlive,
		MaxRequestBodySize: peer.MaxBodyBytes,
		Concurrency:        1 << 20,
	}
	peer.Listening(cfg.Addr)
	if err := srv.ListenAndServe(cfg.Addr); err != nil {
		peer.Fatal("fasthttp", err)
	}
}

func handle(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case peer.HelloPath:
		ctx.SetContentType("text/plain")
		ctx.SetBody(peer.HelloBody)
	case peer.EchoPath:
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(ctx.PostBody())
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
	}
}
