// Command check joins a chat room through nginx with several WebSocket clients (nginx
// spreads them over the instances), has each send one message, and fails unless every
// client receives every message exactly once: the rooms span the instances.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8100/chat?room=demo", "the room's WebSocket URL")
	clients := flag.Int("clients", 9, "clients to connect")
	flag.Parse()
	if err := run(*url, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "check: FAILED:", err)
		os.Exit(1)
	}
	fmt.Printf("check: ok: %d clients, every message reached every client once\n", *clients)
}

func run(url string, n int) error {
	conns := make([]net.Conn, n)
	for i := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, _, err := ws.Dial(ctx, url)
		cancel()
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	// The instances record a membership in Redis after subscribing to its room; give
	// them a moment rather than reading Redis from here.
	time.Sleep(500 * time.Millisecond)
	for i, c := range conns {
		if err := wsutil.WriteClientText(c, fmt.Appendf(nil, "hello from client %d", i)); err != nil {
			return err
		}
	}
	for i, c := range conns {
		seen := map[string]bool{}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for len(seen) < n {
			msg, err := wsutil.ReadServerText(c)
			if err != nil {
				return fmt.Errorf("client %d after %d messages: %w", i, len(seen), err)
			}
			if seen[string(msg)] {
				return fmt.Errorf("client %d got %q twice", i, msg)
			}
			seen[string(msg)] = true
		}
	}
	return nil
}
