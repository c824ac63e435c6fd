package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// WebSocket memory attacks against the real server with its defaults: each test
// measures the server's peak RSS growth against the budget arithmetic of the attack
// and times a bystander's GET / with the attack on and off.

const (
	mib = 1 << 20
	kib = 1 << 10
	// defaultMaxMessage is the server's --ws-max-size default; chatMaxMessage is the
	// demo chat's own limit (chat.DefaultMaxMessageSize).
	defaultMaxMessage = 16 * mib
	chatMaxMessage    = 64 * kib
	// rssSlack covers what the runtime and the test's own traffic add to a budget:
	// garbage not yet collected, goroutine stacks, gnet's read buffers.
	rssSlack = 24 * mib
)

// attackWS dials path with gobwas/ws and returns the connection and what the server
// sent after its 101 (a buffered reader, possibly empty).
func attackWS(t testing.TB, addr, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := ws.Dialer{Timeout: 10 * time.Second}
	c, br, _, err := d.Dial(context.Background(), "ws://"+addr+path)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	if br == nil {
		br = bufio.NewReaderSize(c, 4<<10)
	}
	return c, br
}

// openMembers opens n idle WebSocket clients to path that never read.
func openMembers(t *testing.T, addr, path string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, _ := attackWS(t, addr, path)
		conns = append(conns, c)
	}
	return conns
}

// clientFrame returns a masked client frame.
func clientFrame(op ws.OpCode, payload []byte) []byte {
	f := ws.NewFrame(op, true, append([]byte(nil), payload...))
	f = ws.MaskFrameInPlace(f)
	b, err := ws.CompileFrame(f)
	if err != nil {
		panic(err)
	}
	return b
}

// writeBigFrame writes one masked binary frame of n zero bytes in pieces, without
// holding all of it in memory; it stops at the first write error (the server closed).
func writeBigFrame(c net.Conn, n int) {
	mask := [4]byte{1, 2, 3, 4}
	hdr := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(n), Masked: true, Mask: mask}
	if err := ws.WriteHeader(c, hdr); err != nil {
		return
	}
	chunk := make([]byte, 64*kib)
	for off := 0; off < n; off += len(chunk) {
		k := min(len(chunk), n-off)
		piece := append([]byte(nil), chunk[:k]...)
		ws.Cipher(piece, mask, off)
		if _, err := c.Write(piece); err != nil {
			return
		}
	}
}

// readCloseCode reads frames until a close frame and returns its code (0 on error or
// timeout).
func readCloseCode(c net.Conn, br *bufio.Reader, timeout time.Duration) int {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return 0
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return 0
		}
		if h.OpCode == ws.OpClose {
			if len(p) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(p))
		}
	}
}

// attack measures a server under attack: RSS before, a quiet bystander, then the
// attack with a bystander running, and the peak RSS growth.
type attack struct {
	p      *proc
	pid    int
	before int64
	cpu    time.Duration
	quiet  latencyStats
	by     *bystander
}

func startAttack(t *testing.T, p *proc) *attack {
	a := &attack{p: p, pid: p.cmd.Process.Pid}
	a.quiet = measureBystander(p.addr, 400*time.Millisecond, 10*time.Millisecond)
	a.before = currentRSS(t, a.pid)
	a.cpu = cpuTime(t, a.pid)
	a.by = startBystander(p.addr, 10*time.Millisecond)
	return a
}

// Bystander factors (checkBystander). The refused message costs the server little
// (it discards what the client wrote before it saw the close), so its bystander may
// not notice it beyond scheduling noise. Broadcasts and floods are real work that
// shares two cores with the test's own clients (loopback writes are paid by the
// writer): the bystander may slow down by that share, and what the check catches is
// a stalled loop (before these limits: 7.5 s with a timeout, 0.65 s, 0.28 s).
const (
	quietFactor = 10
	busyFactor  = 50
)

// finish stops the bystander, checks it against factor and the peak RSS growth
// against budget.
func (a *attack) finish(t *testing.T, budget int64, factor int) {
	t.Helper()
	attacked := a.by.stop()
	growth := peakRSS(t, a.pid) - a.before
	t.Logf("RSS before the attack %d MiB; peak growth %.1f MiB (budget %.1f MiB); server CPU %v",
		a.before>>20, float64(growth)/mib, float64(budget)/mib, cpuTime(t, a.pid)-a.cpu)
	if growth > budget {
		t.Errorf("peak RSS grew by %d MiB under the attack, over the budget of %d MiB", growth>>20, budget>>20)
	}
	checkBystander(t, a.quiet, attacked, factor)
}

// TestAttackWSChatHugeMessage: a 16 MiB message to the chat with 100 or 1,000 idle
// members is refused with 1009 at its frame header (the chat's limit is 64 KiB), so
// nobody gets a copy: the server's memory barely moves.
func TestAttackWSChatHugeMessage(t *testing.T) {
	for _, members := range []int{100, 1000} {
		t.Run(itoa(members), func(t *testing.T) {
			p := startAsgo(t, "--access-log=false")
			openMembers(t, p.addr, "/chat", members)
			a := startAttack(t, p)
			c, br := attackWS(t, p.addr, "/chat")
			defer c.Close()
			go writeBigFrame(c, 16*mib)
			code := readCloseCode(c, br, 5*time.Second)
			c.Close()                          // stops the writer
			time.Sleep(300 * time.Millisecond) // the bystander keeps measuring after the refusal
			// Budget: the refused frame is never reassembled; at most one message limit
			// of unread input (the server's, 16 MiB) before the connection closes.
			a.finish(t, defaultMaxMessage+rssSlack, quietFactor)
			if code != 1009 {
				t.Fatalf("close code %d, want 1009", code)
			}
		})
	}
}

// TestAttackWSChatBroadcastNonReading: eight 64 KiB messages to a chat of 1,000 members
// that never read. Each broadcast is encoded once and queued to every member by
// reference; a member whose backlog is over the high-water mark is closed (1008)
// without being given a copy. RSS stays near the copies plus per-member overhead.
func TestAttackWSChatBroadcastNonReading(t *testing.T) {
	const members, messages = 1000, 8
	p := startAsgo(t, "--access-log=false")
	openMembers(t, p.addr, "/chat", members)
	a := startAttack(t, p)
	c, _ := attackWS(t, p.addr, "/chat")
	defer c.Close()
	msg := clientFrame(ws.OpBinary, make([]byte, chatMaxMessage))
	for range messages {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // the broadcasts run; the bystander measures meanwhile
	// Budget: one copy of each message, plus 4 KiB per member (its frames' references
	// and the part of a frame the kernel did not take).
	a.finish(t, messages*chatMaxMessage+members*4*kib+rssSlack, busyFactor)
	if code, _ := get(t, p.url("/")); code != 200 {
		t.Fatalf("GET / after the broadcasts: %d", code)
	}
}

// TestAttackWSPingFlood: peers send pings as fast as they can and never read the
// pongs. The server stops reading a connection whose output is over the high-water
// mark, holds its input (counted exactly) and drops the connection once that passes
// the message limit: a close frame would wait behind the pongs it does not read.
func TestAttackWSPingFlood(t *testing.T) {
	const flooders = 2
	p := startAsgo(t, "--access-log=false")
	a := startAttack(t, p)
	flood(t, p, flooders, clientFrame(ws.OpPing, nil), 5*time.Second)
	// Budget per connection: the output's high-water mark plus the unread input, at
	// most one message limit.
	a.finish(t, flooders*(defaultMaxMessage+256*kib)+rssSlack, busyFactor)
}

// TestAttackWSEchoFlood: peers send 1 MiB messages to /ws and never read the echoes.
// Budget per connection: the message being reassembled and the unread input together
// at most one message limit, plus the unsent output (high-water mark plus one echo).
func TestAttackWSEchoFlood(t *testing.T) {
	const flooders = 2
	p := startAsgo(t, "--access-log=false")
	a := startAttack(t, p)
	flood(t, p, flooders, clientFrame(ws.OpBinary, make([]byte, mib)), 5*time.Second)
	a.finish(t, flooders*(defaultMaxMessage+256*kib+mib)+rssSlack, busyFactor)
}

// flood opens n connections to /ws that write frame in a loop, never reading, until
// the server ends them; it fails t if one is still open after d, or if the server did
// not log the end of each once.
func flood(t *testing.T, p *proc, n int, frame []byte, d time.Duration) {
	t.Helper()
	addr := p.addr
	var batch []byte
	for len(batch) < 64*kib {
		batch = append(batch, frame...)
	}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range n {
		c, _ := attackWS(t, addr, "/ws")
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				_ = c.SetWriteDeadline(stop)
				if _, err := c.Write(batch); err != nil {
					return // closed by the server, or the deadline
				}
			}
		}()
	}
	wg.Wait()
	if time.Now().After(stop) {
		t.Errorf("a flooder was still connected after %v", d)
	}
	time.Sleep(200 * time.Millisecond) // the bystander measures the aftermath too
	if k := strings.Count(p.logs(), "WebSocket connection aborted"); k != n {
		t.Errorf("%d log lines for %d flooders ended", k, n)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
