package main

import (
	"net/http"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/lxzan/gws"
)

type handler struct{ gws.BuiltinEventHandler }

func (handler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	socket.WriteMessage(message.Opcode, message.Bytes())
}

func main() {
	cfg := peer.Parse()
	upgrader := gws.NewUpgrader(handler{}, &gws.ServerOption{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+peer.HelloPath+"{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(peer.HelloBody)
	})
	mux.HandleFunc(peer.WebSocketPath, func(w http.ResponseWriter, r *http.Request) {
		socket, err := upgrader.Upgrade(w, r)
		if err != nil {
			return
		}
		go socket.ReadLoop()
	})
	srv := &http.Server{Addr: cfg.Addr, Handler: mux, IdleTimeout: cfg.KeepAlive}
	peer.Listening(cfg.Addr)
	if err := srv.ListenAndServe(); err != nil {
		peer.Fatal("gws", err)
	}
}
