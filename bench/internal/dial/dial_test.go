package dial

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
)

func listener(t *testing.T) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return l
}

func TestManyRotatesSources(t *testing.T) {
	l := listener(t)
	conns, err := Many(context.Background(), Config{Addr: l.Addr().String(), Sources: 4, Parallel: 3}, 12, nil)
	if err != nil || len(conns) != 12 {
		t.Fatalf("%d conns, %v", len(conns), err)
	}
	seen := map[string]int{}
	for _, c := range conns {
		seen[c.LocalAddr().(*net.TCPAddr).IP.String()]++
		c.Close()
	}
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"} {
		if seen[ip] != 3 {
			t.Errorf("source %s used %d times, want 3 (%v)", ip, seen[ip], seen)
		}
	}
}

func TestManySetupFailures(t *testing.T) {
	l := listener(t)
	boom := errors.New("boom")
	var n atomic.Int32
	conns, err := Many(context.Background(), Config{Addr: l.Addr().String()}, 6, func(context.Context, net.Conn) error {
		if n.Add(1)%2 == 0 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || len(conns) != 3 {
		t.Fatalf("%d conns, err %v; want 3 and boom", len(conns), err)
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := Many(context.Background(), Config{Addr: "nonsense"}, 1, nil); err == nil {
		t.Fatal("bad address accepted")
	}
}
