package eventloop

import (
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPipelined16 is wrk's pipelining scenario on one connection: 16 GET /hello
// requests per write, then all 16 responses read, against an inline app on one loop.
func BenchmarkPipelined16(b *testing.B) {
	ts := startServer(b, Config{Loops: 1}, nil)
	c := ts.dial(b)
	batch := strings.Repeat("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 16)
	// One response's size, to know when a batch is complete.
	if _, err := io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	n, err := c.Read(buf)
	if err != nil {
		b.Fatal(err)
	}
	want := 16 * n
	b.ReportAllocs()
	cpu0 := processCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = c.SetDeadline(timeNowPlus10s())
		if _, err := io.WriteString(c, batch); err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < want {
			m, err := c.Read(buf[got:])
			if err != nil {
				b.Fatal(err)
			}
			got += m
		}
		if got != want || !bytes.HasSuffix(buf[:got], []byte("Hello, World!")) {
			b.Fatalf("read %d bytes, want %d", got, want)
		}
	}
	b.ReportMetric(float64(b.N*16)/b.Elapsed().Seconds(), "req/s")
	// CPU time of the process (server and client) per request: steadier than req/s on
	// a machine shared with other work.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N*16), "cpu-ns/req")
}

// processCPU returns the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func timeNowPlus10s() time.Time { return time.Now().Add(10 * time.Second) }
