package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/asgo-dev/asgo/internal/testutil"
)

// These tests put a real nginx in front of asgo as a reverse proxy, the way it is
// deployed: HTTP/1.1 to the upstream with a keep-alive pool, buffered and streamed
// bodies in both directions, and WebSocket tunnelled through Upgrade.

// ngxTimeout bounds every single client exchange in these tests.
const ngxTimeout = 20 * time.Second

// ngxProxy is a running nginx master (not daemonized) and its prefix directory.
type ngxProxy struct {
	addr     string // 127.0.0.1:PORT nginx listens on
	dir      string // -p prefix: config, pid, logs, temp paths
	errorLog string
	cmd      *exec.Cmd
	out      *testutil.LogBuffer // nginx's own stdout and stderr
	done     chan error
}

// nginxBinary finds nginx on PATH or in /usr/sbin, failing the test when it is missing.
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Fatal("nginx is not installed (neither on PATH nor /usr/sbin/nginx): `make deps` installs it (Debian package nginx-light)")
	return ""
}

// freePort returns a 127.0.0.1 port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNginx runs nginx in front of the asgo listening on upstream and waits until it
// accepts connections. The port is picked by binding :0 and closing, so a start that
// loses the port to another process is retried on a new one.
func startNginx(t *testing.T, upstream string) *ngxProxy {
	t.Helper()
	return startNginxConf(t, "nginx.conf.tmpl", upstream)
}

// startNginxConf is startNginx with the configuration template testdata/nginx/conf.
func startNginxConf(t *testing.T, conf, upstream string) *ngxProxy {
	t.Helper()
	bin := nginxBinary(t)
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "nginx", conf))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		n, err := runNginx(t, bin, tmpl, dir, upstream)
		if err == nil {
			return n
		}
		lastErr = err
		if !strings.Contains(err.Error(), "Address already in use") {
			break
		}
	}
	t.Fatalf("nginx did not start: %v", lastErr)
	return nil
}

// runNginx writes the configuration for a fresh port and starts nginx on it.
func runNginx(t *testing.T, bin string, tmpl *template.Template, dir, upstream string) (*ngxProxy, error) {
	t.Helper()
	n := &ngxProxy{
		addr:     fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		dir:      dir,
		errorLog: filepath.Join(dir, "error.log"),
		out:      &testutil.LogBuffer{},
		done:     make(chan error, 1),
	}
	os.Remove(n.errorLog)
	conf := filepath.Join(dir, "nginx.conf")
	if err := n.writeConf(tmpl, conf, upstream); err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", n.errorLog, "-g", "daemon off;")
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	if err := n.waitReady(10 * time.Second); err != nil {
		n.stop()
		return nil, fmt.Errorf("%v\n%s\nerror.log:\n%s", err, n.out.String(), n.errors())
	}
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("nginx output:\n%s\nnginx error.log:\n%s", n.out.String(), n.errors())
		}
	})
	return n, nil
}

func (n *ngxProxy) writeConf(tmpl *template.Template, path, upstream string) error {
	data := struct{ User, ErrorLog, Listen, Upstream string }{
		ErrorLog: n.errorLog, Listen: n.addr, Upstream: upstream,
	}
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot use the private temp dir.
		data.User = "root"
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := tmpl.Execute(f, data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// waitReady polls nginx's port until it accepts a connection or nginx exits. It returns
// an error rather than failing the test (as testutil.WaitFor would): runNginx's caller
// retries on another port when nginx could not bind.
func (n *ngxProxy) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-n.done:
			n.done <- err
			return fmt.Errorf("nginx exited: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", n.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nginx did not listen on %s within %v", n.addr, limit)
}

// stop ends nginx's whole process group: master and workers, fast shutdown first.
func (n *ngxProxy) stop() {
	pgid := n.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
		return
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case err := <-n.done:
		n.done <- err
	case <-time.After(5 * time.Second):
	}
}

func (n *ngxProxy) errors() string {
	b, err := os.ReadFile(n.errorLog)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

var ngxBadLogLine = regexp.MustCompile(`(?m)^.*\[(error|crit|alert|emerg)\].*$`)

// assertNoUpstreamErrors fails when nginx logged an error: an upstream that closed
// early, sent an invalid header, reset a connection or timed out.
func (n *ngxProxy) assertNoUpstreamErrors(t *testing.T) {
	t.Helper()
	if bad := ngxBadLogLine.FindAllString(n.errors(), 10); len(bad) > 0 {
		t.Errorf("nginx logged errors:\n%s", strings.Join(bad, "\n"))
	}
}

func (n *ngxProxy) url(path string) string { return "http://" + n.addr + path }

// ngxClient is an HTTP client for talking to nginx with bounded exchanges.
func ngxClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ngxTimeout}
}

// ngxSetup starts asgo (demo app) with args and nginx in front of it.
func ngxSetup(t *testing.T, args ...string) (*proc, *ngxProxy, *http.Client) {
	t.Helper()
	p := startAsgo(t, args...)
	n := startNginx(t, p.addr)
	return p, n, ngxClient(t)
}

// do runs req and returns the status and the whole body.
func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, b
}

func newReq(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestNginxGetAndHead(t *testing.T) {
	_, n, c := ngxSetup(t)
	// HEAD between GETs: a body after a HEAD response would corrupt the next
	// response nginx reads from the same upstream connection.
	for i := 0; i < 3; i++ {
		resp, body := do(t, c, newReq(t, "GET", n.url("/"), nil))
		if resp.StatusCode != 200 || string(body) != "Hello, World!" {
			t.Fatalf("GET / #%d = %d %q", i, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("GET / Content-Type = %q", ct)
		}
		resp, body = do(t, c, newReq(t, "HEAD", n.url("/"), nil))
		if resp.StatusCode != 200 || len(body) != 0 {
			t.Fatalf("HEAD / #%d = %d with %d body bytes", i, resp.StatusCode, len(body))
		}
		if cl := resp.Header.Get("Content-Length"); cl != "13" {
			t.Fatalf("HEAD / Content-Length = %q, want 13", cl)
		}
	}
	n.assertNoUpstreamErrors(t)
}

// ngxAccessRE matches asgo's access-log line for GET / and captures the client port.
var ngxAccessRE = regexp.MustCompile(`msg="127\.0\.0\.1:(\d+) - \\"GET / HTTP/1\.1\\" 200"`)

// waitAccessLines waits until asgo logged want GET / lines and returns their client ports.
func waitAccessLines(t *testing.T, p *proc, want int) []string {
	t.Helper()
	var ports []string
	testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("%d GET / lines in asgo's log", want), func() bool {
		ports = ports[:0]
		for _, m := range ngxAccessRE.FindAllStringSubmatch(p.logs(), -1) {
			ports = append(ports, m[1])
		}
		return len(ports) >= want
	})
	if len(ports) != want {
		t.Fatalf("asgo logged %d GET / lines, want %d", len(ports), want)
	}
	return ports
}

func TestNginxUpstreamKeepAliveIsReused(t *testing.T) {
	p, n, c := ngxSetup(t)
	const requests = 50
	for i := 0; i < requests; i++ {
		resp, body := do(t, c, newReq(t, "GET", n.url("/"), nil))
		if resp.StatusCode != 200 || string(body) != "Hello, World!" {
			t.Fatalf("GET / #%d = %d %q", i, resp.StatusCode, body)
		}
	}
	distinct := map[string]bool{}
	for _, port := range waitAccessLines(t, p, requests) {
		distinct[port] = true
	}
	t.Logf("%d sequential requests through nginx used %d upstream connection(s)", requests, len(distinct))
	// One nginx worker sending one request at a time takes the same cached
	// connection every time; allow one reconnect.
	if len(distinct) > 2 {
		t.Fatalf("asgo saw %d TCP connections for %d sequential requests: nginx's upstream keep-alive is not reused", len(distinct), requests)
	}
	n.assertNoUpstreamErrors(t)
}

// patternBody returns n random bytes.
func patternBody(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// onlyReader hides every method but Read, so the client cannot learn the length
// and sends the body chunked.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestNginxChunkedUploadStreamed sends a 5 MiB chunked upload through nginx with
// proxy_request_buffering off: nginx forwards it chunked as it arrives and asgo
// echoes it back whole.
// TestNginxUploads sends 5 MiB bodies through nginx, buffered and not, with a
// Content-Length and chunked: each must come back whole.
func TestNginxUploads(t *testing.T) {
	_, n, c := ngxSetup(t)
	payload := patternBody(t, 5<<20)
	for _, path := range []string{"/echo", "/unbuffered/echo"} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/chunked=%v", path, chunked), func(t *testing.T) {
				var body io.Reader = bytes.NewReader(payload)
				if chunked {
					body = onlyReader{body} // hides the length: the client sends chunked
				}
				req := newReq(t, "POST", n.url(path), body)
				req.Header.Set("Content-Type", "application/octet-stream")
				if chunked != (req.ContentLength == 0) {
					t.Fatalf("request framing: ContentLength %d, want chunked=%v", req.ContentLength, chunked)
				}
				resp, got := do(t, c, req)
				if resp.StatusCode != 200 {
					t.Fatalf("POST %s = %d %.200q", path, resp.StatusCode, got)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("POST %s echoed %d bytes, want the %d sent", path, len(got), len(payload))
				}
				if resp.ContentLength != int64(len(payload)) {
					t.Fatalf("Content-Length = %d, want %d", resp.ContentLength, len(payload))
				}
			})
		}
	}
	n.assertNoUpstreamErrors(t)
}

func TestNginxStreamIsNotBuffered(t *testing.T) {
	_, n, c := ngxSetup(t)
	const lines, delay = 5, 100 * time.Millisecond
	resp, err := c.Do(newReq(t, "GET", n.url(fmt.Sprintf("/unbuffered/stream?n=%d&delay=%d", lines, delay/time.Millisecond)), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /stream = %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	var arrived []time.Time
	for i := 0; i < lines; i++ {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("line %d: %q %v", i, line, err)
		}
		arrived = append(arrived, time.Now())
		if want := fmt.Sprintf("chunk %d\n", i); line != want {
			t.Fatalf("line %d = %q, want %q", i, line, want)
		}
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the last line: %q %v", rest, err)
	}
	spread := arrived[lines-1].Sub(arrived[0])
	t.Logf("first to last line: %v (asgo sends them %v apart)", spread, delay)
	// asgo sends the lines (lines-1)*delay apart; held back anywhere on the way (asgo
	// batching the messages, nginx buffering), they would arrive together.
	if min := (lines - 1) * delay * 3 / 4; spread < min {
		t.Fatalf("lines arrived within %v of each other, want at least %v: the stream was held back", spread, min)
	}
	for i := 1; i < lines; i++ {
		if gap := arrived[i].Sub(arrived[i-1]); gap < delay/4 {
			t.Errorf("line %d arrived %v after line %d: chunks are bunched", i, gap, i-1)
		}
	}
	// The buffered location delivers the same bytes.
	resp2, body := do(t, c, newReq(t, "GET", n.url("/stream?n=5&delay=10"), nil))
	if want := "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n"; resp2.StatusCode != 200 || string(body) != want {
		t.Fatalf("buffered GET /stream = %d %q", resp2.StatusCode, body)
	}
	n.assertNoUpstreamErrors(t)
}

// countX reads r to the end and counts its bytes, failing on anything but 'x'.
func countX(r io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var total int64
	for {
		k, err := r.Read(buf)
		for i := 0; i < k; i++ {
			if buf[i] != 'x' {
				return total, fmt.Errorf("byte %d is %q, want 'x'", total+int64(i), buf[i])
			}
		}
		total += int64(k)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func TestNginxBigResponse(t *testing.T) {
	_, n, c := ngxSetup(t)
	const size = 20_000_000
	for _, path := range []string{"/big", "/unbuffered/big"} {
		resp, err := c.Do(newReq(t, "GET", n.url(fmt.Sprintf("%s?bytes=%d", path, size)), nil))
		if err != nil {
			t.Fatal(err)
		}
		got, err := countX(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || got != size {
			t.Fatalf("GET %s = %d, %d bytes (%v), want %d", path, resp.StatusCode, got, err, size)
		}
		if resp.ContentLength != size {
			t.Fatalf("GET %s Content-Length = %d, want %d", path, resp.ContentLength, size)
		}
	}
	n.assertNoUpstreamErrors(t)
}

func TestNginxForwardedHeadersReachScope(t *testing.T) {
	_, n, c := ngxSetup(t)
	req := newReq(t, "GET", n.url("/scope"), nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, body := do(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /scope = %d %q", resp.StatusCode, body)
	}
	var scope struct {
		Method  string      `json:"method"`
		Path    string      `json:"path"`
		Headers [][2]string `json:"headers"`
	}
	if err := json.Unmarshal(body, &scope); err != nil {
		t.Fatalf("scope JSON: %v\n%s", err, body)
	}
	got := map[string]string{}
	for _, h := range scope.Headers {
		got[h[0]] = h[1]
	}
	want := map[string]string{
		"x-forwarded-for":   "203.0.113.7, 127.0.0.1",
		"x-real-ip":         "127.0.0.1",
		"x-forwarded-proto": "http",
		"host":              n.addr,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("scope header %s = %q, want %q (headers %v)", k, got[k], v, scope.Headers)
		}
	}
	if scope.Method != "GET" || scope.Path != "/scope" {
		t.Errorf("scope method %q path %q", scope.Method, scope.Path)
	}
	n.assertNoUpstreamErrors(t)
}

// wsClient is a minimal RFC 6455 client: masked frames out, unmasked frames in.
type wsClient struct {
	conn net.Conn
	br   *bufio.Reader
}

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

const (
	wsOpCont   = 0x0
	wsOpText   = 0x1
	wsOpBinary = 0x2
	wsOpClose  = 0x8
	wsOpPing   = 0x9
	wsOpPong   = 0xA
)

// wsDial opens a WebSocket to addr+path and checks the 101 handshake; an addr of
// unix:PATH dials a Unix domain socket.
func wsDial(t *testing.T, addr, path string) *wsClient {
	t.Helper()
	network, dialAddr := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, dialAddr, addr = "unix", p, "localhost"
	}
	conn, err := net.DialTimeout(network, dialAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(ngxTimeout))
	keyBytes := make([]byte, 16)
	rand.Read(keyBytes)
	key := base64.StdEncoding.EncodeToString(keyBytes)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("WebSocket handshake for %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		t.Fatalf("WebSocket handshake for %s = %d %q", path, resp.StatusCode, b)
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("Upgrade = %q", resp.Header.Get("Upgrade"))
	}
	return &wsClient{conn: conn, br: br}
}

// writeFrame sends one final, masked frame.
func (w *wsClient) writeFrame(op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xFFFF:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ mask[i%4]
	}
	_, err := w.conn.Write(append(hdr, masked...))
	return err
}

// readFrame reads one frame; server frames must not be masked.
func (w *wsClient) readFrame() (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(w.br, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0F
	if h[0]&0x70 != 0 {
		return fin, op, nil, fmt.Errorf("reserved bits set: %#x", h[0])
	}
	if h[1]&0x80 != 0 {
		return fin, op, nil, errors.New("server frame is masked")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(w.br, b[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(w.br, b[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 64<<20 {
		return fin, op, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(w.br, payload)
	return
}

// readMessage reads one data message (joining fragments), answering pings, or a close frame.
func (w *wsClient) readMessage() (op byte, data []byte, err error) {
	for {
		fin, fop, payload, err := w.readFrame()
		if err != nil {
			return 0, nil, err
		}
		switch fop {
		case wsOpPing:
			if err := w.writeFrame(wsOpPong, payload); err != nil {
				return 0, nil, err
			}
			continue
		case wsOpPong:
			continue
		case wsOpClose:
			return wsOpClose, payload, nil
		case wsOpCont:
			if op == 0 {
				return 0, nil, errors.New("continuation frame without a message")
			}
		default:
			if op != 0 {
				return 0, nil, fmt.Errorf("opcode %#x inside a fragmented message", fop)
			}
			op = fop
		}
		data = append(data, payload...)
		if fin {
			return op, data, nil
		}
	}
}

// expectMessage reads one message and checks its opcode and payload.
func (w *wsClient) expectMessage(t *testing.T, op byte, want []byte) {
	t.Helper()
	gotOp, got, err := w.readMessage()
	if err != nil {
		t.Fatalf("reading WebSocket message: %v", err)
	}
	if gotOp != op || !bytes.Equal(got, want) {
		t.Fatalf("WebSocket message: opcode %#x, %d bytes %.60q; want opcode %#x, %d bytes %.60q",
			gotOp, len(got), got, op, len(want), want)
	}
}

// closeHandshake sends a 1000 close and expects the server's close reply.
func (w *wsClient) closeHandshake(t *testing.T) {
	t.Helper()
	if err := w.writeFrame(wsOpClose, []byte{0x03, 0xE8}); err != nil {
		t.Fatal(err)
	}
	op, payload, err := w.readMessage()
	if err != nil || op != wsOpClose {
		t.Fatalf("after our close: opcode %#x %q %v, want a close frame", op, payload, err)
	}
	if len(payload) >= 2 {
		if code := binary.BigEndian.Uint16(payload); code != 1000 {
			t.Fatalf("close code %d, want 1000", code)
		}
	}
	// The server then closes TCP; nginx passes that on.
	if _, err := w.br.ReadByte(); err != io.EOF {
		t.Fatalf("after the close handshake: %v, want EOF", err)
	}
}

func TestNginxWebSocketEcho(t *testing.T) {
	_, n, _ := ngxSetup(t)
	ws := wsDial(t, n.addr, "/ws")
	for _, m := range []struct {
		op   byte
		data []byte
	}{
		{wsOpText, []byte("hello through nginx")},
		{wsOpBinary, patternBody(t, 300)},     // 16-bit length
		{wsOpBinary, patternBody(t, 200_000)}, // 64-bit length
		{wsOpText, bytes.Repeat([]byte("é"), 40_000)},
	} {
		if err := ws.writeFrame(m.op, m.data); err != nil {
			t.Fatal(err)
		}
		ws.expectMessage(t, m.op, m.data)
	}
	ws.closeHandshake(t)
	n.assertNoUpstreamErrors(t)
}

func TestNginxWebSocketChat(t *testing.T) {
	_, n, _ := ngxSetup(t)
	a := wsDial(t, n.addr, "/chat")
	b := wsDial(t, n.addr, "/chat") // both joined the room before their 101
	if err := a.writeFrame(wsOpText, []byte("hi from a")); err != nil {
		t.Fatal(err)
	}
	a.expectMessage(t, wsOpText, []byte("hi from a"))
	b.expectMessage(t, wsOpText, []byte("hi from a"))
	if err := b.writeFrame(wsOpBinary, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	a.expectMessage(t, wsOpBinary, []byte{1, 2, 3})
	b.expectMessage(t, wsOpBinary, []byte{1, 2, 3})
	a.closeHandshake(t)
	b.closeHandshake(t)
	n.assertNoUpstreamErrors(t)
}

func TestNginxConcurrentRequestsWithoutBadGateway(t *testing.T) {
	_, n, c := ngxSetup(t)
	const workers, each = 20, 25
	small := patternBody(t, 4096)
	type failure struct {
		worker, i int
		msg       string
	}
	failures := make(chan failure, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if msg := ngxOneRequest(c, n, w, i, small); msg != "" {
					failures <- failure{w, i, msg}
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	var count int
	for f := range failures {
		if count++; count <= 10 {
			t.Errorf("worker %d request %d: %s", f.worker, f.i, f.msg)
		}
	}
	if count > 0 {
		t.Fatalf("%d of %d requests through nginx failed", count, workers*each)
	}
	n.assertNoUpstreamErrors(t)
}

// ngxOneRequest sends the i-th request of a worker (alternating GET / and POST /echo)
// and describes what went wrong, or returns "".
func ngxOneRequest(c *http.Client, n *ngxProxy, w, i int, small []byte) string {
	var req *http.Request
	var want []byte
	var err error
	if (w+i)%2 == 0 {
		req, err = http.NewRequest("GET", n.url("/"), nil)
		want = []byte("Hello, World!")
	} else {
		req, err = http.NewRequest("POST", n.url("/echo"), bytes.NewReader(small))
		want = small
	}
	if err != nil {
		return err.Error()
	}
	resp, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return fmt.Sprintf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	case resp.StatusCode != 200:
		return fmt.Sprintf("%s %s = %d %.200q", req.Method, req.URL.Path, resp.StatusCode, body)
	case !bytes.Equal(body, want):
		return fmt.Sprintf("%s %s: %d body bytes differ from the %d expected", req.Method, req.URL.Path, len(body), len(want))
	}
	return ""
}

func TestNginxGracefulShutdownCompletesInFlight(t *testing.T) {
	p, n, c := ngxSetup(t, "--timeout-graceful-shutdown", "10s")
	const clients, lines = 20, 6
	want := ""
	for i := 0; i < lines; i++ {
		want += fmt.Sprintf("chunk %d\n", i)
	}
	started := make(chan struct{}, clients)
	results := make(chan string, clients)
	for i := 0; i < clients; i++ {
		go func() {
			results <- ngxStreamThrough(c, n.url(fmt.Sprintf("/unbuffered/stream?n=%d&delay=150", lines)), want, started)
		}()
	}
	// Every request is in flight once its first line came through nginx.
	timeout := time.After(10 * time.Second)
	for i := 0; i < clients; i++ {
		select {
		case <-started:
		case msg := <-results:
			t.Fatalf("a request ended before the signal: %s", msg)
		case <-timeout:
			t.Fatalf("only %d of %d streams started", i, clients)
		}
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < clients; i++ {
		select {
		case msg := <-results:
			if msg != "" {
				t.Errorf("in-flight request: %s", msg)
			}
		case <-time.After(ngxTimeout):
			t.Fatalf("only %d of %d in-flight requests finished", i, clients)
		}
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("asgo exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("asgo did not exit after the drain")
	}
	t.Logf("drained %d streams through nginx and exited in %v", clients, time.Since(start))
	if !strings.Contains(p.logs(), "shutting down") {
		t.Fatalf("no shutdown log line:\n%s", p.logs())
	}
	n.assertNoUpstreamErrors(t)
}

// ngxStreamThrough GETs url, signals started after the first line and describes any
// difference from want, or returns "".
func ngxStreamThrough(c *http.Client, url, want string, started chan<- struct{}) string {
	resp, err := c.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil {
		return fmt.Sprintf("first line %q: %v", first, err)
	}
	started <- struct{}{}
	rest, err := io.ReadAll(br)
	if got := first + string(rest); err != nil || got != want {
		return fmt.Sprintf("body %q (%v), want %q", got, err, want)
	}
	return ""
}
