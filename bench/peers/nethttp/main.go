package main

import (
	"io"
	"net/http"

	"github.com/asgo-dev/asgo/bench/internal/peer"
)

func main() {
	cfg := peer.Parse()
	srv := &http.Server{Addr: cfg.Addr, Handler: Mux(), IdleTimeout: cfg.KeepAlive}
	peer.Listening(cfg.Addr)
	if err := cfg.ListenAndServe(srv); err != nil {
		peer.Fatal("nethttp", err)
	}
}

// Mux serves the hello and echo routes.
func Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+peer.HelloPath+"{$}", hello)
	mux.HandleFunc("POST "+peer.EchoPath, echo)
	return mux
}

func hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write(peer.HelloBody)
}

// echo reads the whole body before answering: net/http's HTTP/1.1 server closes the request
// body once the response starts.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(body)
}
