package main

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/asgo-dev/asgo/examples/internal/exampletest"
)

func TestChatBroadcastsToEveryMember(t *testing.T) {
	srv := exampletest.Start(t, exampletest.Build(t), nil)
	if got := exampletest.Curl(t, srv.URL+"/"); !strings.Contains(got, "WebSocket") {
		t.Errorf("GET / = %q", got)
	}

	const clients = 4
	conns := make([]net.Conn, clients)
	for i := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, _, _, err := ws.Dial(ctx, "ws://"+srv.Addr+"/")
		cancel()
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	// The handshake is answered after the member joined: every client is in the room.
	for from := range conns {
		msg := fmt.Sprintf("hello from client %d", from)
		if err := wsutil.WriteClientText(conns[from], []byte(msg)); err != nil {
			t.Fatal(err)
		}
		for i, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if got, err := wsutil.ReadServerText(c); err != nil || string(got) != msg {
				t.Fatalf("client %d read %q, %v; want %q", i, got, err, msg)
			}
		}
	}
	// Binary messages stay binary.
	if err := wsutil.WriteClientBinary(conns[1], []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if got, op, err := wsutil.ReadServerData(c); err != nil || op != ws.OpBinary || string(got) != "\x00\x01\x02" {
			t.Fatalf("client %d read %q (op %v), %v", i, got, op, err)
		}
	}
	// A member that leaves is removed from the room.
	_ = ws.WriteFrame(conns[0], ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))
	srv.WaitLog(regexp.MustCompile(`msg="member left" members=3`))

	for _, c := range conns[1:] {
		c.Close()
	}
	srv.WaitLog(regexp.MustCompile(`msg="member left" members=0`))
	srv.Stop()
}
