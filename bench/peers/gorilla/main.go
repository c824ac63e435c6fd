package main

import (
	"net/http"
	"sync"

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
	mux.HandleFunc(peer.BroadcastPath, join)
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

// The room follows gorilla's chat example: a writer goroutine and a bounded queue per
// member; a message is prepared once (websocket.PreparedMessage) and queued to each; a
// member whose queue is full is dropped.
var (
	roomMu      sync.RWMutex
	roomMembers = map[*member]struct{}{}
)

type member struct {
	conn *websocket.Conn
	send chan *websocket.PreparedMessage
}

func join(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	m := &member{conn: c, send: make(chan *websocket.PreparedMessage, peer.BroadcastQueue)}
	roomMu.Lock()
	roomMembers[m] = struct{}{}
	roomMu.Unlock()
	go m.write()
	defer func() {
		roomMu.Lock()
		if _, ok := roomMembers[m]; ok {
			delete(roomMembers, m)
			close(m.send)
		}
		roomMu.Unlock()
		c.Close()
	}()
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		pm, err := websocket.NewPreparedMessage(mt, data)
		if err != nil {
			return
		}
		roomMu.Lock()
		for o := range roomMembers {
			select {
			case o.send <- pm:
			default:
				delete(roomMembers, o)
				close(o.send)
			}
		}
		roomMu.Unlock()
	}
}

func (m *member) write() {
	for pm := range m.send {
		if err := m.conn.WritePreparedMessage(pm); err != nil {
			m.conn.Close()
			for range m.send {
			}
			return
		}
	}
}
