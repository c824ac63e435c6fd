package main

import (
	"io"
	"net/http"
	"sync"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/lesismal/llib/std/crypto/tls"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

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
	mux.HandleFunc(peer.WebSocketPath, serveWS)
	mux.HandleFunc(peer.BroadcastPath, serveRoom)
	conf := nbhttp.Config{
		Network:       "tcp",
		Addrs:         []string{cfg.Addr},
		Handler:       mux,
		NPoller:       cfg.Loops,
		MaxLoad:       1 << 20,
		ReadLimit:     peer.MaxBodyBytes,
		KeepaliveTime: cfg.KeepAlive,
	}
	if cfg.CertFile != "" {
		// nbio's non-blocking TLS: lesismal/llib's fork of crypto/tls.
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			peer.Fatal("nbio", err)
		}
		conf.Addrs, conf.AddrsTLS = nil, []string{cfg.Addr}
		conf.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	engine := nbhttp.NewEngine(conf)
	if err := engine.Start(); err != nil {
		peer.Fatal("nbio", err)
	}
	peer.Listening(cfg.Addr)
	peer.WaitSignal()
	engine.Stop()
}

var upgrader = newUpgrader()

func newUpgrader() *websocket.Upgrader {
	u := websocket.NewUpgrader()
	u.KeepaliveTime = 0
	u.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		c.WriteMessage(mt, data)
	})
	return u
}

func serveWS(w http.ResponseWriter, r *http.Request) {
	if _, err := upgrader.Upgrade(w, r, nil); err != nil {
		return
	}
}

// The room: nbio has no broadcast helper, so a message is written to each member with
// WriteMessage (nbio frames it per member and queues it on the member's connection).
var (
	roomMu       sync.RWMutex
	roomMembers  = map[*websocket.Conn]struct{}{}
	roomUpgrader = newRoomUpgrader()
)

func newRoomUpgrader() *websocket.Upgrader {
	u := websocket.NewUpgrader()
	u.KeepaliveTime = 0
	u.OnOpen(func(c *websocket.Conn) {
		roomMu.Lock()
		roomMembers[c] = struct{}{}
		roomMu.Unlock()
	})
	u.OnClose(func(c *websocket.Conn, _ error) {
		roomMu.Lock()
		delete(roomMembers, c)
		roomMu.Unlock()
	})
	u.OnMessage(func(_ *websocket.Conn, mt websocket.MessageType, data []byte) {
		roomMu.RLock()
		for m := range roomMembers {
			_ = m.WriteMessage(mt, data)
		}
		roomMu.RUnlock()
	})
	return u
}

func serveRoom(w http.ResponseWriter, r *http.Request) {
	if _, err := roomUpgrader.Upgrade(w, r, nil); err != nil {
		return
	}
}
