// Command nethttp is the net/http peer: hello and POST echo on the standard library server,
// the baseline every HTTP/1.1 figure is divided by.
package main

import (
	"io"
	"net/http"

	"asgo/bench/internal/peer"
)

func main() {
	cfg := peer.Parse()
	srv := &http.Server{Addr: cfg.Addr, Handler: Mux(), IdleTimeout: cfg.KeepAlive}
	peer.Listening(cfg.Addr)
	if err := srv.ListenAndServe(); err != nil {
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

func echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.ContentLength >= 0 {
		w.Header().Set("Content-Length", itoa(r.ContentLength))
	}
	io.Copy(w, r.Body)
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
