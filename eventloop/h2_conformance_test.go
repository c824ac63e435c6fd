package eventloop

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/asgo-dev/asgo/protocol/websocket"
)

// TestH2WebSocketConformance runs the WebSocket conformance suite (the Autobahn case
// groups of websocket_conformance_test.go) over HTTP/2 streams, h2c and TLS: the same
// test body as over HTTP/1.1. Each case opens its own connection with an extended
// CONNECT, and the suite's client reads and writes the stream through h2StreamConn.
func TestH2WebSocketConformance(t *testing.T) {
	eachTransport(t, func(t *testing.T, tr transport) {
		ts := tr.start(t, Config{WebSocket: websocket.Config{MaxMessageSize: 1 << 20}}, newWSTestApp())
		for _, path := range []string{"/ws", "/ws-goroutine"} {
			t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
				conformanceOver(t, func(t *testing.T, extra ...string) *wsClient { return dialH2WS(t, ts, path, extra...) })
			})
		}
	})
}

// dialH2WS opens a WebSocket on path over a new HTTP/2 connection to ts (stream 1):
// h2c, or TLS with ALPN h2 on a TLS listener. It returns the suite's client on it;
// extra are "Name: value" header lines.
func dialH2WS(t *testing.T, ts *testServer, path string, extra ...string) *wsClient {
	t.Helper()
	var nc net.Conn
	nc, err := net.DialTimeout("tcp", ts.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if ts.tlsClient != nil {
		cfg := ts.tlsClient.Clone()
		cfg.NextProtos = []string{"h2"}
		tc := tls.Client(nc, cfg)
		if err := tc.Handshake(); err != nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
			t.Fatalf("TLS handshake: %v, ALPN %q", err, tc.ConnectionState().NegotiatedProtocol)
		}
		nc = tc
	}
	sc := &h2StreamConn{nc: nc, fr: http2.NewFramer(nc, nc), sendWin: 65535, connWin: 65535, more: make(chan struct{}),
		headers: make(chan http.Header, 1)}
	sc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var blk strings.Builder
	enc := hpack.NewEncoder(writerFunc(func(p []byte) (int, error) { return blk.Write(p) }))
	for _, f := range [][2]string{{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "http"},
		{":authority", "test"}, {":path", path}, {"sec-websocket-version", "13"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for _, line := range extra {
		name, value, _ := strings.Cut(line, ":")
		enc.WriteField(hpack.HeaderField{Name: strings.ToLower(strings.TrimSpace(name)), Value: strings.TrimSpace(value)})
	}
	io.WriteString(nc, http2.ClientPreface)
	sc.fr.WriteSettings()
	sc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: []byte(blk.String())})
	go sc.readLoop()
	var h http.Header
	select {
	case h = <-sc.headers:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer to the extended CONNECT")
	}
	if h.Get(":status") != "200" {
		t.Fatalf("extended CONNECT answered %v", h)
	}
	return &wsClient{t: t, c: sc, br: bufio.NewReader(sc), resp: &http.Response{StatusCode: 200, Header: h}}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// h2StreamConn is stream 1 of an h2c connection as a net.Conn: writes become DATA
// frames within the server's windows, reads return the DATA payload, and EOF follows
// END_STREAM or RST_STREAM. A goroutine reads the connection, acknowledges SETTINGS and
// grants every received byte back at once.
type h2StreamConn struct {
	nc net.Conn
	fr *http2.Framer

	mu       sync.Mutex // guards what follows and writes on fr
	in       []byte
	eof      bool
	sendWin  int64
	connWin  int64
	more     chan struct{} // closed and replaced when in, eof or a window changes
	deadline time.Time
	headers  chan http.Header
}

func (s *h2StreamConn) signalLocked() {
	close(s.more)
	s.more = make(chan struct{})
}

func (s *h2StreamConn) readLoop() {
	defer func() {
		s.mu.Lock()
		s.eof = true
		s.signalLocked()
		s.mu.Unlock()
	}()
	for {
		f, err := s.fr.ReadFrame()
		if err != nil {
			return
		}
		s.mu.Lock()
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
					s.sendWin += int64(v) - 65535
				}
				s.fr.WriteSettingsAck()
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				s.connWin += int64(f.Increment)
			} else if f.StreamID == 1 {
				s.sendWin += int64(f.Increment)
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == 1 {
				h := http.Header{}
				for _, hf := range f.Fields {
					h.Add(hf.Name, hf.Value)
				}
				select {
				case s.headers <- h:
				default:
				}
			}
		case *http2.DataFrame:
			if n := uint32(len(f.Data())); n > 0 {
				s.in = append(s.in, f.Data()...)
				s.fr.WriteWindowUpdate(0, n)
				if !f.StreamEnded() {
					s.fr.WriteWindowUpdate(f.StreamID, n)
				}
			}
			s.eof = s.eof || f.StreamID == 1 && f.StreamEnded()
		case *http2.RSTStreamFrame:
			s.eof = s.eof || f.StreamID == 1
		case *http2.GoAwayFrame:
			s.eof = true
		}
		s.signalLocked()
		s.mu.Unlock()
	}
}

func (s *h2StreamConn) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.in) == 0 {
		if s.eof {
			return 0, io.EOF
		}
		wait := s.more
		var timeout <-chan time.Time
		if !s.deadline.IsZero() {
			d := time.Until(s.deadline)
			if d <= 0 {
				return 0, errH2StreamTimeout
			}
			timeout = time.After(d)
		}
		s.mu.Unlock()
		select {
		case <-wait:
		case <-timeout:
		}
		s.mu.Lock()
	}
	n := copy(p, s.in)
	s.in = s.in[n:]
	return n, nil
}

// Write sends p as DATA frames of at most 16 KiB (the server's frame size), waiting
// for the server's windows.
func (s *h2StreamConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	written := 0
	for written < len(p) {
		n := min(int64(len(p)-written), s.sendWin, s.connWin, 16<<10)
		if n <= 0 {
			if s.eof {
				// The server ended the stream: it reads nothing more, as a TCP peer
				// that closed; the bytes are dropped (a socket buffer would take them).
				return len(p), nil
			}
			wait := s.more
			s.mu.Unlock()
			select {
			case <-wait:
			case <-time.After(10 * time.Second):
				s.mu.Lock()
				return written, errH2StreamTimeout
			}
			s.mu.Lock()
			continue
		}
		if err := s.fr.WriteData(1, false, p[written:written+int(n)]); err != nil {
			return written, err
		}
		s.sendWin -= n
		s.connWin -= n
		written += int(n)
	}
	return written, nil
}

var errH2StreamTimeout = &net.OpError{Op: "read", Net: "h2", Err: timeoutError{}}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (s *h2StreamConn) Close() error                     { return s.nc.Close() }
func (s *h2StreamConn) LocalAddr() net.Addr              { return s.nc.LocalAddr() }
func (s *h2StreamConn) RemoteAddr() net.Addr             { return s.nc.RemoteAddr() }
func (s *h2StreamConn) SetWriteDeadline(time.Time) error { return nil }
func (s *h2StreamConn) SetDeadline(t time.Time) error    { return s.SetReadDeadline(t) }
func (s *h2StreamConn) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.mu.Unlock()
	return nil
}
