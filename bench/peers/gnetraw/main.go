package main

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/peer"

	"github.com/panjf2000/gnet/v2"
)

var headEnd = []byte("\r\n\r\n")

// server answers request heads with the current canned response.
type server struct {
	gnet.BuiltinEventEngine
	// response is replaced once a second with a fresh Date header; read by every loop.
	response atomic.Pointer[[]byte]
}

func (s *server) refresh() {
	r := []byte("HTTP/1.1 200 OK\r\nServer: gnet\r\nDate: " + time.Now().UTC().Format(http.TimeFormat) +
		"\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
	s.response.Store(&r)
}

func (s *server) OnBoot(gnet.Engine) gnet.Action {
	peer.Listening(addr)
	return gnet.None
}

func (s *server) OnTick() (time.Duration, gnet.Action) {
	s.refresh()
	return time.Second, gnet.None
}

// OnTraffic answers every complete head in the inbound buffer and leaves a partial head
// buffered for the next call.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	n := bytes.Count(in, headEnd)
	if n == 0 {
		return gnet.None
	}
	c.Discard(bytes.LastIndex(in, headEnd) + len(headEnd))
	resp := *s.response.Load()
	if n == 1 {
		c.Write(resp)
		return gnet.None
	}
	c.Write(bytes.Repeat(resp, n))
	return gnet.None
}

var addr string

func main() {
	cfg := peer.Parse()
	addr = cfg.Addr
	s := &server{}
	s.refresh()
	err := gnet.Run(s, "tcp://"+cfg.Addr,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(cfg.Loops),
		gnet.WithTicker(true),
		gnet.WithReusePort(false),
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
	)
	if err != nil {
		peer.Fatal("gnetraw", err)
	}
}
