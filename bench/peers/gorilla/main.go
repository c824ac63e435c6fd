package main

import (
	"net/http"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}

func main() {
	cfg := peer.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+peer.HelloPath+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(peer.HelloBody)
	})
	mux.HandleFunc(peer.WebSocketPath, echo)
	srv := &http.Server{Addr: cfg.Addr, Handler: mux, IdleTimeout: cfg.KeepAlive}
	peer.Listening(cfg.Addr)
	if err := cfg.ListenAndServe(srv); err != nil {
		peer.Fatal("gorilla", err)
	}
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, data); err != nil {
			return
		}
	}
}
