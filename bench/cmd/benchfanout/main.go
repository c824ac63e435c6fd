// Command benchfanout measures WebSocket fan-out through a channel layer: one
// publisher, N members spread over the instances of a server, every message to every
// member. It reports delivered messages/s and the publish-to-receive latency (p50,
// p99) of each server in one run, as ratios against asgo on Redis:
//
//   - asgo-memory: one asgo instance, the demo chat's room on the in-memory layer;
//   - asgo-redis: two asgo instances, --channel-layer on one redis-server;
//   - centrifuge: two instances of peers/centrifuge (its Redis broker) on that Redis;
//   - django: two daphne instances of peers/djangochannels (channels_redis) on that Redis.
//
// Each round the publisher sends -per-round messages back to back and the round ends
// when every member has them all (or -round-timeout passes: the missing ones count as
// lost). The load generator runs on the same machine as the servers.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

var (
	asgoBin       = flag.String("asgo", "bin/asgo", "the asgo binary")
	centrifugeBin = flag.String("centrifuge", "bin/centrifuge", "the peers/centrifuge binary")
	djangoDir     = flag.String("django", "peers/djangochannels", "the directory of benchsite.py")
	servers       = flag.String("servers", "asgo-memory,asgo-redis,centrifuge,django", "servers to measure, in order")
	members       = flag.Int("members", 10000, "members of the group")
	rounds        = flag.Int("rounds", 5, "measured rounds")
	perRound      = flag.Int("per-round", 10, "messages the publisher sends per round")
	roundTimeout  = flag.Duration("round-timeout", 60*time.Second, "longest round")
	dialTimeout   = flag.Duration("dial-timeout", 120*time.Second, "time allowed to connect all members")
)

type result struct {
	name              string
	instances         int
	delivered, wanted int64
	elapsed           time.Duration
	p50, p99          time.Duration
	err               error
}

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	raiseNoFile()
	redisAddr, stopRedis := startRedis()
	defer stopRedis()
	var results []result
	for _, name := range strings.Split(*servers, ",") {
		r := measure(name, redisAddr)
		if r.err != nil {
			log.Printf("%s: %v", name, r.err)
		}
		results = append(results, r)
	}
	report(results)
}

// ---- servers ----

type server struct {
	addrs []string // HOST:PORT of each instance
	path  string   // WebSocket path
	kind  string   // protocol: "raw" (the message is the payload) or "centrifuge"
	procs []*exec.Cmd
}

func (s *server) stop() {
	for _, p := range s.procs {
		_ = p.Process.Signal(syscall.SIGKILL)
		_ = p.Wait()
	}
}

func start(name, redisAddr string) (*server, error) {
	s := &server{path: "/chat?room=bench", kind: "raw"}
	n := 2
	var cmd func(port int) *exec.Cmd
	switch name {
	case "asgo-memory":
		n = 1
		cmd = func(port int) *exec.Cmd {
			return exec.Command(*asgoBin, "serve", "--bind", "127.0.0.1:"+strconv.Itoa(port), "--access-log=false")
		}
	case "asgo-redis":
		cmd = func(port int) *exec.Cmd {
			return exec.Command(*asgoBin, "serve", "--bind", "127.0.0.1:"+strconv.Itoa(port), "--access-log=false",
				"--channel-layer", "redis://"+redisAddr+"/0", "--instance-name", "bench-"+strconv.Itoa(port))
		}
	case "centrifuge":
		s.path, s.kind = "/connection/websocket", "centrifuge"
		cmd = func(port int) *exec.Cmd {
			return exec.Command(*centrifugeBin, "-addr", "127.0.0.1:"+strconv.Itoa(port), "-redis", redisAddr)
		}
	case "django":
		s.path = "/ws"
		cmd = func(port int) *exec.Cmd {
			c := exec.Command("sh", "-c", "ulimit -n 20000 2>/dev/null; exec /usr/bin/daphne -b 127.0.0.1 -p "+strconv.Itoa(port)+" benchsite:application")
			c.Dir = *djangoDir
			c.Env = append(os.Environ(), "BENCH_REDIS="+redisAddr, "PYTHONPATH="+*djangoDir)
			return c
		}
	default:
		return nil, fmt.Errorf("unknown server %q", name)
	}
	for range n {
		port := freePort()
		c := cmd(port)
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphans if the run dies
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if name != "centrifuge" {
			c.Stdout, c.Stderr = nil, nil // asgo's log and daphne's access log
		}
		if err := c.Start(); err != nil {
			s.stop()
			return nil, err
		}
		s.procs = append(s.procs, c)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		if err := waitTCP(addr, 20*time.Second); err != nil {
			s.stop()
			return nil, err
		}
		s.addrs = append(s.addrs, addr)
	}
	return s, nil
}

// ---- clients ----

type client struct {
	conn net.Conn
	got  atomic.Int64
	lat  []time.Duration // guarded by mu
	mu   sync.Mutex
	wmu  sync.Mutex // one writer at a time: the publisher and the ping replies
}

func dial(s *server, i int) (*client, error) {
	d := ws.Dialer{Timeout: 10 * time.Second}
	if s.kind == "centrifuge" {
		d.Protocols = []string{"centrifuge-json"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, _, _, err := d.Dial(ctx, "ws://"+s.addrs[i%len(s.addrs)]+s.path)
	if err != nil {
		return nil, err
	}
	if s.kind == "centrifuge" {
		if err := wsutil.WriteClientText(conn, []byte(`{"id":1,"connect":{}}`+"\n"+`{"id":2,"subscribe":{"channel":"bench"}}`)); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return &client{conn: conn}, nil
}

// read counts the messages c receives and records their latency from the send time
// they carry ({"t":UNIXNANO}). It reuses its buffers: the load generator shares the
// machine with the servers, so it should cost as little as it can.
func (c *client) read(centrifuge bool) {
	br := bufio.NewReaderSize(c.conn, 4096)
	buf := make([]byte, 0, 512)
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if h.Length > 1<<20 {
			return
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		buf = buf[:h.Length]
		if _, err := io.ReadFull(br, buf); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(buf, h.Mask, 0)
		}
		if h.OpCode == ws.OpPing { // daphne and asgo close members that do not answer
			c.wmu.Lock()
			_ = ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewPongFrame(bytes.Clone(buf))))
			c.wmu.Unlock()
			continue
		}
		if h.OpCode != ws.OpText {
			continue
		}
		now := time.Now().UnixNano()
		for line := range bytes.SplitSeq(buf, []byte("\n")) {
			if centrifuge && len(line) == 2 && line[0] == '{' && line[1] == '}' { // the server's ping
				c.wmu.Lock()
				_ = wsutil.WriteClientText(c.conn, []byte("{}"))
				c.wmu.Unlock()
				continue
			}
			i := bytes.Index(line, []byte(`"t":`))
			if i < 0 {
				continue
			}
			t, ok := parseInt(line[i+4:])
			if !ok {
				continue
			}
			c.mu.Lock()
			c.lat = append(c.lat, time.Duration(now-t))
			c.mu.Unlock()
			c.got.Add(1)
		}
	}
}

func parseInt(b []byte) (int64, bool) {
	var n int64
	k := 0
	for ; k < len(b) && b[k] >= '0' && b[k] <= '9'; k++ {
		n = n*10 + int64(b[k]-'0')
	}
	return n, k > 0
}

func (c *client) publish(centrifuge bool, id int) error {
	body := fmt.Sprintf(`{"t":%d}`, time.Now().UnixNano())
	if centrifuge {
		body = fmt.Sprintf(`{"id":%d,"publish":{"channel":"bench","data":%s}}`, id, body)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return wsutil.WriteClientText(c.conn, []byte(body))
}

// ---- measurement ----

func measure(name, redisAddr string) result {
	r := result{name: name}
	s, err := start(name, redisAddr)
	if err != nil {
		r.err = err
		return r
	}
	defer s.stop()
	r.instances = len(s.addrs)
	log.Printf("%s: %d instance(s) up; connecting %d members", name, len(s.addrs), *members)
	clients := make([]*client, *members)
	var next atomic.Int64
	var wg sync.WaitGroup
	var dialErr atomic.Pointer[error]
	deadline := time.Now().Add(*dialTimeout)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(clients) || time.Now().After(deadline) {
					return
				}
				c, err := dial(s, i)
				if err != nil {
					dialErr.Store(&err)
					return
				}
				clients[i] = c
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.conn.Close()
			}
		}
	}()
	if err := dialErr.Load(); err != nil {
		r.err = fmt.Errorf("connecting members: %w", *err)
		return r
	}
	if clients[len(clients)-1] == nil {
		r.err = fmt.Errorf("connecting members took longer than %v", *dialTimeout)
		return r
	}
	centrifuge := s.kind == "centrifuge"
	for _, c := range clients {
		go c.read(centrifuge)
	}
	// The publisher is member 0 (a chat room caps its members at 10,000; counting the
	// publisher in keeps every server at exactly -members connections).
	pub := clients[0]
	// Warm up until every member gets a message: the memberships are in place.
	id := 10
	warm := time.Now().Add(*roundTimeout)
	for !all(clients, 1) {
		if time.Now().After(warm) {
			r.err = fmt.Errorf("warm-up: only %d of %d members got a message", count(clients, 1), len(clients))
			return r
		}
		id++
		_ = pub.publish(centrifuge, id)
		time.Sleep(time.Second)
	}
	// The warm-up messages still in flight land before the counters are read.
	for prev := int64(-1); ; {
		time.Sleep(500 * time.Millisecond)
		total := int64(0)
		for _, c := range clients {
			total += c.got.Load()
		}
		if total == prev {
			break
		}
		prev = total
	}
	base := make([]int64, len(clients))
	for i, c := range clients {
		base[i] = c.got.Load()
		c.mu.Lock()
		c.lat = c.lat[:0]
		c.mu.Unlock()
	}
	log.Printf("%s: members ready; %d rounds of %d messages", name, *rounds, *perRound)
	for round := 1; round <= *rounds; round++ {
		start := time.Now()
		for range *perRound {
			id++
			if err := pub.publish(centrifuge, id); err != nil {
				r.err = err
				return r
			}
		}
		want := int64(round * *perRound)
		end := start.Add(*roundTimeout)
		for time.Now().Before(end) && !allSince(clients, base, want) {
			time.Sleep(2 * time.Millisecond)
		}
		r.elapsed += time.Since(start)
		time.Sleep(200 * time.Millisecond) // a pause between rounds
	}
	var lat []time.Duration
	for i, c := range clients {
		r.delivered += c.got.Load() - base[i]
		c.mu.Lock()
		lat = append(lat, c.lat...)
		c.mu.Unlock()
	}
	r.wanted = int64(len(clients) * *rounds * *perRound)
	if len(lat) > 0 {
		slices.Sort(lat)
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	log.Printf("%s: %d of %d delivered in %v", name, r.delivered, r.wanted, r.elapsed.Round(time.Millisecond))
	return r
}

func all(cs []*client, n int64) bool { return count(cs, n) == len(cs) }

func count(cs []*client, n int64) int {
	k := 0
	for _, c := range cs {
		if c.got.Load() >= n {
			k++
		}
	}
	return k
}

func allSince(cs []*client, base []int64, n int64) bool {
	for i, c := range cs {
		if c.got.Load()-base[i] < n {
			return false
		}
	}
	return true
}

// ---- report ----

func report(rs []result) {
	fmt.Printf("\nfan-out: 1 publisher -> %d members, %d rounds of %d messages; %s, GOMAXPROCS %d, %d CPUs\n\n",
		*members, *rounds, *perRound, runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	// The reference is the mean of the asgo-redis runs (-servers may repeat a server to
	// interleave runs on a busy machine).
	var ref float64
	var refs int
	for _, r := range rs {
		if r.name == "asgo-redis" && r.err == nil && r.elapsed > 0 {
			ref += float64(r.delivered) / r.elapsed.Seconds()
			refs++
		}
	}
	if refs > 0 {
		ref /= float64(refs)
	}
	fmt.Println("| server | instances | delivered | delivered msg/s | p50 | p99 | asgo-redis (mean) / server |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rs {
		if r.err != nil || r.elapsed == 0 {
			fmt.Printf("| %s | %d | failed: %v | | | | |\n", r.name, r.instances, r.err)
			continue
		}
		rate := float64(r.delivered) / r.elapsed.Seconds()
		ratio := "-"
		if ref > 0 && rate > 0 {
			ratio = fmt.Sprintf("%.2fx", ref/rate)
		}
		fmt.Printf("| %s | %d | %d / %d | %.0f | %v | %v | %s |\n", r.name, r.instances, r.delivered, r.wanted, rate,
			r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), ratio)
	}
}

// ---- environment ----

func raiseNoFile() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func startRedis() (string, func()) {
	dir, err := os.MkdirTemp("", "benchfanout")
	if err != nil {
		log.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort())
	_, port, _ := net.SplitHostPort(addr)
	c := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--loglevel", "warning")
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.Start(); err != nil {
		log.Fatal("redis-server: ", err)
	}
	if err := waitTCP(addr, 10*time.Second); err != nil {
		log.Fatal(err)
	}
	return addr, func() {
		_ = c.Process.Kill()
		_ = c.Wait()
		os.RemoveAll(filepath.Clean(dir))
	}
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitTCP(addr string, d time.Duration) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not listening after %v", addr, d)
}
