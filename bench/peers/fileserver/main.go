// Command fileserver is the net/http peer of the static-file benchmark (cmd/benchstatic):
// http.FileServer over -dir under /static/, wrapped in klauspost/compress's gzhttp, which
// compresses what the client accepts (the JSON scenario) and passes the rest as is.
package main

import (
	"flag"
	"net/http"

	"github.com/klauspost/compress/gzhttp"

	"github.com/asgo-dev/asgo/bench/internal/peer"
)

func main() {
	dir := flag.String("dir", ".", "directory served under /static/")
	cfg := peer.Parse()
	files := http.StripPrefix("/static/", http.FileServer(http.Dir(*dir)))
	mux := http.NewServeMux()
	mux.Handle("/static/", gzhttp.GzipHandler(files))
	srv := &http.Server{Addr: cfg.Addr, Handler: mux, IdleTimeout: cfg.KeepAlive}
	peer.Listening(cfg.Addr)
	if err := srv.ListenAndServe(); err != nil {
		peer.Fatal("fileserver", err)
	}
}
