package eventloop

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkKeepAliveHello is HTTP/1.1 keep-alive on one connection: GET /hello, read
// the response, again, against the inline test app on one loop. Its cleartext figure
// guards the plain path's cost (TLS adds one branch per event there), and the TLS one
// shows what the loop's encryption and decryption cost per request.
func BenchmarkKeepAliveHello(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		ts := startServer(b, Config{Loops: 1}, nil)
		keepAliveHello(b, ts.dial(b))
	})
	b.Run("tls", func(b *testing.B) {
		ts := startTLSServer(b, Config{Loops: 1}, nil)
		keepAliveHello(b, ts.dial(b))
	})
	// The peer: net/http's server with the same certificate and client, in the same
	// process (so cpu-ns/req counts the client for both).
	b.Run("nethttp-tls", func(b *testing.B) {
		certs := makeTestCerts(b)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("Hello, World!"))
		}))
		srv.TLS = certs.serverConfig()
		srv.StartTLS()
		b.Cleanup(srv.Close)
		c, err := tls.Dial("tcp", srv.Listener.Addr().String(), certs.clientConfig("http/1.1"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		keepAliveHello(b, c)
	})
}

func keepAliveHello(b *testing.B, c net.Conn) {
	br := bufio.NewReader(c)
	const req = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.SetDeadline(timeNowPlus10s())
		resp := roundTrip(b, c, br, req, "GET")
		if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != 200 {
			b.Fatalf("%d %v", resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/req")
}
