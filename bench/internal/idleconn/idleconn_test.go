package idleconn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

//lint:file-ignore SA1019 the test server is the same net/http + x/net h2c stack as the h2c peer

func hello(w http.ResponseWriter, r *http.Request) { w.Write([]byte("Hello, World!")) }

func TestOpenModes(t *testing.T) {
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", hello)
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		if c, err := up.Upgrade(w, r, nil); err == nil {
			go func() { c.ReadMessage() }()
		}
	})
	srv := httptest.NewServer(h2c.NewHandler(mux, &http2.Server{}))
	defer srv.Close()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	for _, tc := range []struct {
		mode Mode
		url  string
	}{{HTTP1, srv.URL + "/"}, {HTTP2, srv.URL + "/"}, {WebSocket, ws}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			set, err := Open(context.Background(), Config{URL: tc.url, Mode: tc.mode, Conns: 20, Sources: 4})
			defer set.Close() //lint:ignore SA5001 Open returns the Set of what opened even on error
			if err != nil || set.Len() != 20 {
				t.Fatalf("open %d: %v", set.Len(), err)
			}
			if alive := set.Check(); alive != 20 {
				t.Fatalf("alive %d, want 20", alive)
			}
		})
	}
}

func TestCheckSeesServerClose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		hello(w, r)
	}))
	defer srv.Close()
	set, err := Open(context.Background(), Config{URL: srv.URL + "/", Mode: HTTP1, Conns: 3})
	defer set.Close() //lint:ignore SA5001 Open returns the Set of what opened even on error
	if err == nil {
		t.Fatal("a response with Connection: close must fail the idle set-up")
	}
}

func TestCheckCountsClosed(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(hello))
	srv.Start()
	set, err := Open(context.Background(), Config{URL: srv.URL + "/", Mode: HTTP1, Conns: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	srv.CloseClientConnections()
	srv.Close()
	if alive := set.Check(); alive != 0 {
		t.Fatalf("alive %d after the server closed every connection", alive)
	}
}

func TestBadInputs(t *testing.T) {
	if _, err := Open(context.Background(), Config{URL: "http://127.0.0.1:1/", Mode: "h3"}); err == nil {
		t.Fatal("unknown mode accepted")
	}
	set, err := Open(context.Background(), Config{URL: "http://127.0.0.1:1/", Mode: HTTP1, Conns: 2})
	if err == nil || set.Len() != 0 {
		t.Fatalf("refused connections: %d open, %v", set.Len(), err)
	}
}
