package eventloop

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

func testEntry() *accessEntry {
	started := time.Date(2000, 10, 10, 13, 55, 36, 0, time.FixedZone("", -7*3600))
	return &accessEntry{
		client:  &asgi.Addr{Host: "192.0.2.7", Port: 50312},
		method:  "GET",
		path:    []byte("/items"),
		query:   []byte("page=2"),
		proto:   "1.1",
		headers: asgi.H("user-agent", "curl/8.5", "referer", "http://example.com/", "x-trace", "abc"),
		status:  200,
		sent:    1234,
		started: started,
		// 1.5 s later
		finished: started.Add(1500*time.Millisecond + 42*time.Microsecond),
	}
}

func TestAccessFormatAtoms(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	tests := []struct {
		format, want string
		edit         func(*accessEntry)
	}{
		{"%(h)s", "192.0.2.7", nil},
		{"%(h)s", "-", func(e *accessEntry) { e.client = nil }},
		{"%(l)s %(u)s", "- -", nil},
		{"%(t)s", "[10/Oct/2000:13:55:37 -0700]", nil},
		{"%(r)s", "GET /items?page=2 HTTP/1.1", nil},
		{"%(r)s", "GET /items HTTP/2", func(e *accessEntry) { e.query = nil; e.proto = "2" }},
		{"%(m)s %(U)s %(q)s %(H)s", "GET /items page=2 HTTP/1.1", nil},
		{"%(s)s", "200", nil},
		{"%(B)s %(b)s", "1234 1234", nil},
		{"%(B)s %(b)s", "0 -", func(e *accessEntry) { e.sent = 0 }},
		{"%(f)s|%(a)s", "http://example.com/|curl/8.5", nil},
		{"%(f)s", "-", func(e *accessEntry) { e.headers = nil }},
		{"%(T)s %(D)s %(M)s %(L)s", "1 1500042 1500 1.500042", nil},
		{"%(L)s", "0.000042", func(e *accessEntry) { e.finished = e.started.Add(42 * time.Microsecond) }},
		{"%(p)s", "<" + pid + ">", nil},
		{"%({X-Trace}i)s %({missing}i)s", "abc -", nil},
		{"%({content-type}o)s", "-", nil},
		{"100%% %(s)s", "100% 200", nil},
		{"[%(s)s]", "[200]", nil},
		{"common", `192.0.2.7 - - [10/Oct/2000:13:55:37 -0700] "GET /items?page=2 HTTP/1.1" 200 1234`, nil},
		{"combined", `192.0.2.7 - - [10/Oct/2000:13:55:37 -0700] "GET /items?page=2 HTTP/1.1" 200 1234 "http://example.com/" "curl/8.5"`, nil},
		{"", `192.0.2.7:50312 - "GET /items?page=2 HTTP/1.1" 200`, nil},
		{"", `192.0.2.7:50312 - "GET /items?page=2 HTTP/1.1" 200 (response incomplete: client disconnected or aborted)`, func(e *accessEntry) { e.cut = true }},
		{"", `192.0.2.7:50312 - "WebSocket /chat" [accepted]`, func(e *accessEntry) { e.ws, e.pathStr, e.path, e.status = true, "/chat", nil, 101 }},
		{"", `192.0.2.7:50312 - "WebSocket /chat" 403 [rejected]`, func(e *accessEntry) { e.ws, e.pathStr, e.path, e.status = true, "/chat", nil, 403 }},
		{"%(r)s %(s)s", `GET /chat HTTP/1.1 101`, func(e *accessEntry) { e.ws, e.pathStr, e.path, e.query, e.status = true, "/chat", nil, nil, 101 }},
		// Request values are escaped so that a line stays one line.
		{`"%(r)s" "%(a)s"`, `"GET /a\"b\\c\x0a HTTP/1.1" "x\x1b[31m"`, func(e *accessEntry) {
			e.path, e.query, e.headers = []byte("/a\"b\\c\n"), nil, asgi.H("user-agent", "x\x1b[31m")
		}},
	}
	for _, tt := range tests {
		f, err := parseAccessFormat(tt.format)
		if err != nil {
			t.Fatalf("%q: %v", tt.format, err)
		}
		e := testEntry()
		if tt.edit != nil {
			tt.edit(e)
		}
		if got := string(f.append(nil, e)); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.format, got, tt.want)
		}
	}
}

func TestAccessFormatErrors(t *testing.T) {
	for _, f := range []string{"%(z)s", "%(h", "50%", "%(h)d", "%({x}z)s"} {
		if err := CheckAccessLogFormat(f); err == nil {
			t.Errorf("%q: no error", f)
		}
	}
}

func TestAccessFormatJSON(t *testing.T) {
	f, err := parseAccessFormat("json")
	if err != nil {
		t.Fatal(err)
	}
	e := testEntry()
	e.path = []byte("/q\"uo\\te\x00\x1f\xff/é")
	e.headers = asgi.H("user-agent", "a\"b\nc", "referer", "\x7f")
	line := f.append(nil, e)
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := map[string]any{
		"remote_addr": "192.0.2.7", "request": "GET /q\"uo\\te\x00\x1f\ufffd/é?page=2 HTTP/1.1", "method": "GET",
		"path": "/q\"uo\\te\x00\x1f\ufffd/é", "query": "page=2", "protocol": "HTTP/1.1", "status": 200.0, "bytes": 1234.0,
		"referer": "\x7f", "user_agent": "a\"b\nc", "duration_us": 1500042.0, "pid": float64(os.Getpid()),
		"time": "2000-10-10T13:55:37.500-07:00",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("fields %v", m)
	}
	if bytes.ContainsAny(line, "\n\x00\x7f") {
		t.Errorf("raw control bytes in %q", line)
	}
}

// TestAccessFormatAllocs guards that formatting a line allocates nothing beyond the
// (reused) output buffer.
func TestAccessFormatAllocs(t *testing.T) {
	for _, format := range []string{"", "combined", "json", `%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)s %({x-trace}i)s`} {
		f, _ := parseAccessFormat(format)
		e := testEntry()
		buf := make([]byte, 0, 1024)
		allocs := testing.AllocsPerRun(1000, func() {
			buf = f.append(buf[:0], e)
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations per line", format, allocs)
		}
	}
}

// TestWriteAccessAllocs measures a whole line through Server.writeAccess into the queue.
func TestWriteAccessAllocs(t *testing.T) {
	s := New(Config{AccessLog: true, AccessLogFormat: "combined", AccessLogWriter: io.Discard}, nil)
	if err := s.openAccessLog(); err != nil {
		t.Fatal(err)
	}
	defer s.closeAccessLog()
	e := testEntry()
	allocs := testing.AllocsPerRun(1000, func() { s.writeAccess(e) })
	if allocs != 0 {
		t.Errorf("%v allocations per line", allocs)
	}
}

// blockedWriter blocks every Write until release is closed.
type blockedWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// syncBuffer is a goroutine-safe log destination.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestAccessWriterDropsWhenFull(t *testing.T) {
	out := &blockedWriter{release: make(chan struct{})}
	var logs syncBuffer
	w := newAccessWriter(out, 100, slog.New(slog.NewTextHandler(&logs, nil)))
	line := []byte(strings.Repeat("x", 9)) // 10 bytes with the newline
	start := time.Now()
	for range 1000 {
		w.Write(line) // the first batch blocks in out.Write; the queue fills; the rest drop
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Write blocked for %v", d)
	}
	close(out.release)
	w.Close(5 * time.Second)
	out.mu.Lock()
	written := strings.Count(out.buf.String(), "\n")
	out.mu.Unlock()
	dropped := 0
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if i := strings.Index(l, "access log: dropped "); i >= 0 {
			n, _ := strconv.Atoi(strings.Fields(l[i+len("access log: dropped "):])[0])
			dropped += n
		}
	}
	if written > 20 || written < 10 {
		t.Errorf("%d lines written, want 10 to 20 (one batch in flight, one queued)", written)
	}
	if written+dropped != 1000 {
		t.Errorf("written %d + dropped %d != 1000\n%s", written, dropped, logs.String())
	}
	if got := w.droppedTotal.Load(); got != int64(dropped) { // Stats.AccessLogDropped
		t.Errorf("droppedTotal %d, logged %d", got, dropped)
	}
}

func TestAccessWriterReportsDropsOncePerSecond(t *testing.T) {
	out := &blockedWriter{release: make(chan struct{})}
	var logs syncBuffer
	w := newAccessWriter(out, 10, slog.New(slog.NewTextHandler(&logs, nil)))
	w.Write([]byte("first"))
	time.Sleep(50 * time.Millisecond) // the writer takes it and blocks
	close(out.release)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		w.Write([]byte("0123456789")) // always too long: dropped
		time.Sleep(time.Millisecond)
	}
	reports := strings.Count(logs.String(), "access log: dropped")
	if reports < 1 || reports > 2 {
		t.Errorf("%d reports in 1.5 s:\n%s", reports, logs.String())
	}
	w.Close(time.Second)
}

func TestAccessLogReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	s := New(Config{AccessLog: true, AccessLogFormat: "%(m)s %(U)s", AccessLogFile: path}, nil)
	if err := s.openAccessLog(); err != nil {
		t.Fatal(err)
	}
	scope := &asgi.HTTPScope{Method: "GET", RawPath: []byte("/one"), HTTPVersion: "1.1"}
	s.logHTTPAccess(nil, scope, 200, 0, false, time.Now())
	waitFile(t, path, "GET /one\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenAccessLog(); err != nil {
		t.Fatal(err)
	}
	scope.RawPath = []byte("/two")
	s.logHTTPAccess(nil, scope, 200, 0, false, time.Now())
	s.closeAccessLog()
	waitFile(t, path+".1", "GET /one\n")
	waitFile(t, path, "GET /two\n")
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	var got []byte
	for range 200 {
		got, _ = os.ReadFile(path)
		if string(got) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: %q, want %q", path, got, want)
}
