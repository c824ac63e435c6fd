package eventloop

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// The accept cost of adopted listeners (an accept goroutine plus gnet's Register)
// against gnet's native per-loop listeners: each operation opens a connection, sends
// one request with Connection: close, reads the response to EOF and closes.
//
//	go test -run '^$' -bench Accept -benchtime 20000x ./eventloop/

func benchConnections(b *testing.B, network, addr string) {
	benchConnectionsSending(b, network, addr, nil)
}

// benchConnectionsSending is benchConnections with prefix written before the request
// (a PROXY protocol header), in the same write.
func benchConnectionsSending(b *testing.B, network, addr string, prefix []byte) {
	const clients = 8
	req := append(prefix, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"...)
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for left.Add(-1) >= 0 {
				c, err := net.Dial(network, addr)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := c.Write(req); err != nil {
					b.Error(err)
				}
				var got []byte
				for {
					n, err := c.Read(buf)
					got = append(got, buf[:n]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Error(err)
						break
					}
				}
				c.Close()
				if !bytes.HasPrefix(got, []byte("HTTP/1.1 200")) {
					b.Errorf("response %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}

func benchServer(b *testing.B, cfg Config) *Server {
	cfg.Loops = 2
	cfg.LingerTimeout = -1
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv := New(cfg, newTestApp())
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv
}

func BenchmarkAcceptNativeTCP(b *testing.B) {
	srv := benchServer(b, Config{Binds: []string{"127.0.0.1:0"}})
	benchConnections(b, "tcp", srv.Addrs()[0].String())
}

func BenchmarkAcceptAdoptedTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := benchServer(b, Config{ListenFDs: []int{inheritedFD(b, ln)}})
	benchConnections(b, "tcp", srv.Addrs()[0].String())
}

func BenchmarkAcceptUnixSocket(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.sock")
	benchServer(b, Config{UnixSockets: []string{path}})
	benchConnections(b, "unix", path)
}
