package main

import (
	"io"
	"net/http"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

//lint:file-ignore SA1019 this peer is net/http with x/net's h2c handler by definition (see doc.go)

func main() {
	cfg := peer.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+peer.HelloPath+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(peer.HelloBody)
	})
	mux.HandleFunc("POST "+peer.EchoPath, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	})
	h2 := &http2.Server{MaxConcurrentStreams: 100, IdleTimeout: cfg.KeepAlive}
	srv := &http.Server{Addr: cfg.Addr, Handler: h2c.NewHandler(mux, h2), IdleTimeout: cfg.KeepAlive}
	if cfg.CertFile != "" {
		// Over TLS: net/http's own HTTP/2 (ALPN h2), with the same settings.
		if err := http2.ConfigureServer(srv, h2); err != nil {
			peer.Fatal("h2c", err)
		}
	}
	peer.Listening(cfg.Addr)
	if err := cfg.ListenAndServe(srv); err != nil {
		peer.Fatal("h2c", err)
	}
}
