package idleconn

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/asgo-dev/asgo/bench/internal/dial"

	"github.com/gobwas/ws"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Mode is the exchange each connection completes before it idles.
type Mode string

// Modes.
const (
	HTTP1     Mode = "h1"
	HTTP2     Mode = "h2"
	WebSocket Mode = "ws"
)

// ErrBadResponse is returned when the server's answer to the first exchange is not a success.
var ErrBadResponse = errors.New("idleconn: unexpected response to the first exchange")

// Config describes the connections to open. Zero values have the documented defaults.
type Config struct {
	// URL is http://host:port/path (h1, h2) or ws://host:port/path (ws); https and wss
	// connect with TLS (ALPN h2 for h2, else http/1.1).
	URL  string
	Mode Mode
	// Conns is the number of connections; if zero, 1.
	Conns int
	// Sources and Parallel are passed to dial.Config.
	Sources, Parallel int
	// Timeout bounds each connection's first exchange; if zero, 30 s.
	Timeout time.Duration
}

// Set is a group of open idle connections.
type Set struct {
	conns []net.Conn
}

// Len is the number of open connections.
func (s *Set) Len() int { return len(s.conns) }

// Open opens the connections. It returns the Set of those that succeeded even on error.
func Open(ctx context.Context, cfg Config) (*Set, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return &Set{}, fmt.Errorf("idleconn: bad URL: %w", err)
	}
	setup, err := setupFor(cfg.Mode, u)
	if err != nil {
		return &Set{}, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	timed := func(ctx context.Context, c net.Conn) error {
		c.SetDeadline(time.Now().Add(timeout))
		defer c.SetDeadline(time.Time{})
		return setup(ctx, c)
	}
	proto := "http/1.1"
	if cfg.Mode == HTTP2 {
		proto = "h2"
	}
	dc := dial.Config{Addr: u.Host, Sources: cfg.Sources, Parallel: cfg.Parallel, TLS: dial.TLSFor(u.Scheme, proto)}
	conns, err := dial.Many(ctx, dc, max(cfg.Conns, 1), timed)
	return &Set{conns: conns}, err
}

func setupFor(m Mode, u *url.URL) (dial.Setup, error) {
	switch m {
	case HTTP1:
		return func(_ context.Context, c net.Conn) error { return http1(c, u) }, nil
	case HTTP2:
		return func(_ context.Context, c net.Conn) error { return http2Request(c, u) }, nil
	case WebSocket:
		return func(_ context.Context, c net.Conn) error {
			_, _, err := ws.Dialer{}.Upgrade(c, u)
			return err
		}, nil
	}
	return nil, fmt.Errorf("idleconn: unknown mode %q", m)
}

func http1(c net.Conn, u *url.URL) error {
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(c, 1024), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || resp.Close {
		return fmt.Errorf("%w: %s (close=%v)", ErrBadResponse, resp.Status, resp.Close)
	}
	return nil
}

// http2Request sends the preface, SETTINGS and one GET on stream 1, and reads frames until the
// response ends, acknowledging the server's SETTINGS.
func http2Request(c net.Conn, u *url.URL) error {
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		return err
	}
	fr := http2.NewFramer(c, bufio.NewReaderSize(c, 1024))
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", u.Host}, {":path", u.RequestURI()}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	if err != nil {
		return err
	}
	return readHTTP2Response(fr)
}

func readHTTP2Response(fr *http2.Framer) error {
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return err
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					return err
				}
			}
		case *http2.GoAwayFrame, *http2.RSTStreamFrame:
			return fmt.Errorf("%w: %T", ErrBadResponse, f)
		case *http2.HeadersFrame:
			if f.StreamID == 1 && f.StreamEnded() {
				return nil
			}
		case *http2.DataFrame:
			if f.StreamID == 1 && f.StreamEnded() {
				return nil
			}
		}
	}
}

// Check counts the connections the server has not closed: a read that times out at once means
// the connection is open and idle; EOF or a reset means it was closed.
func (s *Set) Check() int {
	alive := 0
	one := make([]byte, 512)
	for _, c := range s.conns {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.Read(one)
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			alive++
		}
	}
	return alive
}

// Close closes every connection.
func (s *Set) Close() {
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}
