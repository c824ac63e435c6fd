package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/channels/redis"
	"github.com/asgo-dev/asgo/internal/redistest"
)

// Cluster tests: real asgo processes sharing rooms of the demo chat through a real
// redis-server (--channel-layer).

// startCluster runs n asgo instances on the Redis at url.
func startCluster(t *testing.T, url string, n int, args ...string) []*proc {
	t.Helper()
	nodes := make([]*proc, n)
	for i := range nodes {
		nodes[i] = startAsgo(t, append([]string{"--channel-layer", url, "--instance-name", fmt.Sprintf("node-%d", i),
			"--access-log=false"}, args...)...)
	}
	return nodes
}

// watcher is a layer of the test's own on the cluster's Redis, to read memberships.
func watcher(t *testing.T, url string) *redis.Layer {
	t.Helper()
	l, err := redis.New(context.Background(), redis.Config{URL: url, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// waitRoom waits until room has n members in the cluster: their instances have
// subscribed to it, so every later message reaches them.
func waitRoom(t *testing.T, l *redis.Layer, room string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m, err := l.GroupMembers(context.Background(), "chat."+room)
		if err == nil && len(m) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("room %s: %d members (%v), want %d", room, len(m), err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// member is a WebSocket client of the chat whose messages are collected by a
// goroutine.
type member struct {
	ws *wsClient
	mu sync.Mutex
	// Guarded by mu:
	got       []string
	closeCode int // the server's close code, 0 before
	err       error
}

// join connects a member to room on p; with read false it never reads (a slow member).
func join(t *testing.T, p *proc, room string, read bool) *member {
	t.Helper()
	m := &member{ws: wsDial(t, p.addr, "/chat?room="+room)}
	_ = m.ws.conn.SetDeadline(time.Time{})
	if read {
		go m.readLoop()
	}
	return m
}

func (m *member) readLoop() {
	for {
		op, data, err := m.ws.readMessage()
		m.mu.Lock()
		switch {
		case err != nil:
			m.err = err
		case op == wsOpClose:
			m.closeCode = -1
			if len(data) >= 2 {
				m.closeCode = int(binary.BigEndian.Uint16(data))
			}
		default:
			m.got = append(m.got, string(data))
		}
		done := err != nil || op == wsOpClose
		m.mu.Unlock()
		if done {
			return
		}
	}
}

func (m *member) messages() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

func (m *member) closed() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closeCode
}

func (m *member) send(t *testing.T, s string) {
	t.Helper()
	if err := m.ws.writeFrame(wsOpText, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// waitMessages waits until every member holds want[i] messages.
func waitMessages(t *testing.T, members []*member, want func(i int) int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for i, m := range members {
		for len(m.messages()) < want(i) {
			if time.Now().After(deadline) {
				t.Fatalf("member %d has %d messages, want %d (closed %d, err %v)", i, len(m.messages()), want(i), m.closed(), m.err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestClusterRoomsExactlyOnceInOrder: 300 clients spread over three instances in
// three rooms; every message reaches every member of its room exactly once, in the
// order its sender sent it, and no other room.
func TestClusterRoomsExactlyOnceInOrder(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startCluster(t, srv.URL(), 3)
	w := watcher(t, srv.URL())
	const clients, rooms, perSender = 300, 3, 20
	members := make([]*member, clients)
	roomOf := func(i int) string { return fmt.Sprintf("r%d", i%rooms) }
	for i := range members {
		members[i] = join(t, nodes[(i/rooms)%len(nodes)], roomOf(i), true)
	}
	for r := range rooms {
		waitRoom(t, w, fmt.Sprintf("r%d", r), clients/rooms, 20*time.Second)
	}
	// Ten senders per room, spread over the instances, send concurrently.
	var senders []int
	for i := range 30 {
		senders = append(senders, i)
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perSender {
				if err := members[s].ws.writeFrame(wsOpText, fmt.Appendf(nil, "%d %d", s, k)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	perRoom := len(senders) / rooms * perSender
	waitMessages(t, members, func(int) int { return perRoom }, 30*time.Second)
	time.Sleep(300 * time.Millisecond) // duplicates would arrive by now
	for i, m := range members {
		got := m.messages()
		if len(got) != perRoom {
			t.Fatalf("member %d: %d messages, want %d", i, len(got), perRoom)
		}
		last := map[int]int{}
		for _, msg := range got {
			var s, k int
			if _, err := fmt.Sscanf(msg, "%d %d", &s, &k); err != nil {
				t.Fatal(err)
			}
			if roomOf(s) != roomOf(i) {
				t.Fatalf("member %d of room %s got %q from room %s", i, roomOf(i), msg, roomOf(s))
			}
			if prev, ok := last[s]; ok && k != prev+1 || !ok && k != 0 {
				t.Fatalf("member %d: from sender %d message %d after %d (lost, duplicated or reordered)", i, s, k, prev)
			}
			last[s] = k
		}
	}
	for _, p := range nodes {
		if !strings.Contains(p.logs(), "channel layer on Redis") {
			t.Fatalf("an instance did not log its layer:\n%s", p.logs())
		}
	}
}

// TestClusterRedisRestart: Redis killed mid-test; the instances stay up, a room
// within one instance keeps working, and messages between instances flow again
// within seconds of Redis coming back.
func TestClusterRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startCluster(t, srv.URL(), 2)
	w := watcher(t, srv.URL())
	a1, a2 := join(t, nodes[0], "x", true), join(t, nodes[0], "x", true)
	b := join(t, nodes[1], "x", true)
	waitRoom(t, w, "x", 3, 10*time.Second)
	a1.send(t, "before")
	waitMessages(t, []*member{a1, a2, b}, func(int) int { return 1 }, 10*time.Second)

	srv.Kill()
	time.Sleep(300 * time.Millisecond)
	a1.send(t, "local")
	waitMessages(t, []*member{a1, a2}, func(int) int { return 2 }, 10*time.Second)
	for _, p := range nodes {
		select {
		case err := <-p.done:
			t.Fatalf("an instance exited without Redis: %v\n%s", err, p.logs())
		default:
		}
	}
	if n := len(b.messages()); n != 1 {
		t.Fatalf("the other instance got %d messages while Redis was down", n)
	}

	srv.Restart()
	start := time.Now()
	for i := 0; len(b.messages()) < 2; i++ {
		if time.Since(start) > 15*time.Second {
			t.Fatalf("no message crossed instances 15s after Redis came back\n%s", nodes[0].logs())
		}
		a1.send(t, fmt.Sprintf("probe %d", i))
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("cross-instance delivery resumed %v after the restart", time.Since(start).Round(10*time.Millisecond))
	for _, want := range []string{"lost Redis", "Redis unavailable", "reconnected to Redis"} {
		if !strings.Contains(nodes[0].logs(), want) {
			t.Errorf("node-0 did not log %q:\n%s", want, nodes[0].logs())
		}
	}
}

// TestClusterInstanceKilled: one instance killed; the others keep their rooms, and
// its members leave the room by expiry (--channel-expiry).
func TestClusterInstanceKilled(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startCluster(t, srv.URL(), 3, "--channel-expiry", "2s")
	w := watcher(t, srv.URL())
	var members [3][]*member
	for i, p := range nodes {
		for range 20 {
			members[i] = append(members[i], join(t, p, "k", i != 2))
		}
	}
	waitRoom(t, w, "k", 60, 10*time.Second)
	if err := nodes[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-nodes[2].done
	killed := time.Now()
	alive := append(members[0], members[1]...)
	members[0][0].send(t, "after the kill")
	members[1][0].send(t, "from node-1")
	waitMessages(t, alive, func(int) int { return 2 }, 10*time.Second)
	waitRoom(t, w, "k", 40, 15*time.Second)
	t.Logf("the dead instance's members expired %v after the kill", time.Since(killed).Round(10*time.Millisecond))
}

// TestClusterSlowMemberClosed: a member that never reads is closed with 1008 while
// the room's other members, on its instance and on another, get every message.
func TestClusterSlowMemberClosed(t *testing.T) {
	srv := redistest.Start(t)
	nodes := startCluster(t, srv.URL(), 2)
	w := watcher(t, srv.URL())
	sender := join(t, nodes[0], "s", true)
	near := join(t, nodes[1], "s", true)
	slow := join(t, nodes[1], "s", false)
	waitRoom(t, w, "s", 3, 10*time.Second)
	// A busy room, not a flood: 16 KiB every 2 ms (8 MB/s), which the readers keep up
	// with and the slow member's buffers cannot hold.
	const n, size = 800, 16 << 10
	payload := strings.Repeat("x", size-8)
	start := time.Now()
	go func() {
		for i := range n {
			if sender.ws.writeFrame(wsOpText, fmt.Appendf(nil, "%07d %s", i, payload)) != nil {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	waitMessages(t, []*member{sender, near}, func(int) int { return n }, 30*time.Second)
	if c := near.closed(); c != 0 {
		t.Fatalf("a reading member was closed with %d", c)
	}
	t.Logf("%d messages of %d KiB reached the room's readers in %v", n, size>>10, time.Since(start).Round(time.Millisecond))
	// The slow member now reads what was queued for it before it was closed.
	go slow.readLoop()
	deadline := time.Now().Add(20 * time.Second)
	for slow.closed() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the slow member was not closed (%d messages, err %v)", len(slow.messages()), slow.err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := slow.closed(); code != 1008 {
		t.Fatalf("slow member closed with %d, want 1008", code)
	}
	if got := len(slow.messages()); got >= n {
		t.Fatalf("the slow member got all %d messages", got)
	}
	for i, m := range []*member{sender, near} {
		for k, msg := range m.messages() {
			if !strings.HasPrefix(msg, fmt.Sprintf("%07d ", k)) {
				t.Fatalf("reader %d: message %d is %.10q", i, k, msg)
			}
		}
	}
}

// TestClusterRedisUnreachableAtStart: a --channel-layer that cannot be reached stops
// asgo before it serves, with a clear error and exit status 3.
func TestClusterRedisUnreachableAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	out, err := exec.Command(asgoBin, "serve", "--bind", "127.0.0.1:0", "--channel-layer", srv.URL()).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v, want status 3\n%s", err, out)
	}
	if !strings.Contains(string(out), "cannot reach "+srv.URL()) {
		t.Fatalf("no clear error:\n%s", out)
	}
	out, err = exec.Command(asgoBin, "serve", "--channel-layer", "mysql://x").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "redis://") {
		t.Fatalf("bad --channel-layer: %v\n%s", err, out)
	}
}
