package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// The accept cost of worker processes and of an upgraded process (both adopt their
// listening sockets: an accept goroutine per socket) against one process on gnet's
// native per-loop listeners. Each operation opens a connection, sends one request with
// Connection: close and reads the response (docs/ARCHITECTURE.md, "Upgrades", "Workers"):
//
//	go test -run '^$' -bench AcceptProcesses -benchtime 20000x ./cmd/asgo/
func BenchmarkAcceptProcesses(b *testing.B) {
	for _, bc := range []struct {
		name    string
		args    []string
		upgrade bool
	}{
		{"workers1", nil, false},
		{"workers2", []string{"--workers", "2"}, false},
		{"workers3", []string{"--workers", "3"}, false},
		{"upgraded", nil, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			p := startLogged(b, asgoBin, append([]string{"serve", "--app", "hello", "--access-log=false", "--bind", addr}, bc.args...)...)
			if len(bc.args) > 0 {
				p.waitLog(b, "all workers ready", 1)
			}
			if bc.upgrade {
				_ = p.cmd.Process.Signal(syscall.SIGUSR2)
				p.waitLog(b, "new process is ready", 1)
				p.waitLog(b, "msg=stopped", 1) // the old one is gone
			}
			freshConnections(b, addr)
		})
	}
}

func freshConnections(b *testing.B, addr string) {
	const clients = 8
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = c.Write(req)
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				c.Close()
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("response %v %v", resp, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}
