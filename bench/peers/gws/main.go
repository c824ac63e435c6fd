package main

import (
	"net/http"
	"sync"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/lxzan/gws"
)

type handler struct{ gws.BuiltinEventHandler }

func (handler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	socket.WriteMessage(message.Opcode, message.Bytes())
}

// room broadcasts with gws's Broadcaster: the frame is encoded once and queued to every
// member's write queue.
type room struct {
	gws.BuiltinEventHandler
	mu      sync.RWMutex
	members map[*gws.Conn]struct{}
}

func (r *room) OnOpen(socket *gws.Conn) {
	r.mu.Lock()
	r.members[socket] = struct{}{}
	r.mu.Unlock()
}

func (r *room) OnClose(socket *gws.Conn, _ error) {
	r.mu.Lock()
	delete(r.members, socket)
	r.mu.Unlock()
}

func (r *room) OnMessage(_ *gws.Conn, message *gws.Message) {
	defer message.Close()
	b := gws.NewBroadcaster(message.Opcode, message.Bytes())
	defer b.Close()
	r.mu.RLock()
	for m := range r.members {
		_ = b.Broadcast(m)
	}
	r.mu.RUnlock()
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
	roomUpgrader := gws.NewUpgrader(&room{members: map[*gws.Conn]struct{}{}}, &gws.ServerOption{})
	mux.HandleFunc(peer.BroadcastPath, func(w http.ResponseWriter, r *http.Request) {
		socket, err := roomUpgrader.Upgrade(w, r)
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
