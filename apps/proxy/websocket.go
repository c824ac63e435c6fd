package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// lockedWriter serializes the frames written to the upstream connection: messages from
// the client and the control-frame replies of the reading goroutine.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) message(op ws.OpCode, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return wsutil.WriteClientMessage(l.w, op, data)
}

// wsHandshakeSkip are the client's handshake fields the upstream handshake sets itself.
func wsHandshakeSkip(name []byte) bool {
	for _, h := range []string{"host", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
		"sec-websocket-protocol", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix"} {
		if asgi.EqualFold(name, h) {
			return true
		}
	}
	return false
}

func (p *Proxy) serveWebSocket(ctx context.Context, s *asgi.WebSocketScope, receive asgi.Receive, send asgi.Send) error {
	msg, err := receive(ctx)
	if err != nil {
		return err
	}
	if _, ok := msg.(*asgi.WebSocketConnect); !ok {
		return nil
	}
	up := p.pick()
	conn, br, hs, err := p.dialWebSocket(ctx, s, up)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		var status ws.StatusError
		if !errors.As(err, &status) {
			p.markDown(up, err)
		}
		return p.denyWebSocket(ctx, send, "Bad Gateway: upstream "+up.base+": "+err.Error())
	}
	defer conn.Close()
	if err := send(ctx, &asgi.WebSocketAccept{Subprotocol: hs.Protocol}); err != nil {
		return err
	}
	var src io.Reader = conn
	if br != nil {
		src = io.MultiReader(br, conn)
	}
	w := &lockedWriter{w: conn}

	// Upstream to client.
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		code, reason := p.relayUpstream(ctx, src, w, send)
		_ = send(ctx, &asgi.WebSocketClose{Code: code, Reason: reason})
	}()

	// Client to upstream.
	for {
		msg, err := receive(ctx)
		if err != nil {
			conn.Close()
			<-upDone
			return err
		}
		switch m := msg.(type) {
		case *asgi.WebSocketReceive:
			op := ws.OpBinary
			if m.Text {
				op = ws.OpText
			}
			if err := w.message(op, m.Data); err != nil {
				conn.Close() // the reading goroutine sees it and closes the client
			}
		case *asgi.WebSocketDisconnect:
			p.closeUpstream(w, conn, m.Code, m.Reason, upDone)
			return nil
		}
	}
}

// closeUpstream passes the client's close code on and waits briefly for the
// upstream's reply before closing the connection.
func (p *Proxy) closeUpstream(w *lockedWriter, conn net.Conn, code int, reason string, upDone chan struct{}) {
	switch code {
	case 1006, 1015, 0:
		// The client dropped or the code cannot be sent: close the connection.
	case 1005:
		_ = w.message(ws.OpClose, nil)
	default:
		_ = w.message(ws.OpClose, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
	}
	if code != 1006 && code != 1015 && code != 0 {
		select {
		case <-upDone:
		case <-time.After(time.Second):
		}
	}
	conn.Close()
	<-upDone
}

// relayUpstream sends the upstream's messages to the client until the upstream closes,
// and returns the close code and reason for the client.
func (p *Proxy) relayUpstream(ctx context.Context, src io.Reader, w *lockedWriter, send asgi.Send) (int, string) {
	rd := &wsutil.Reader{
		Source:         src,
		State:          ws.StateClientSide,
		CheckUTF8:      true,
		MaxMessageSize: p.cfg.MaxMessageSize,
		OnIntermediate: wsutil.ControlFrameHandler(w, ws.StateClientSide),
	}
	control := wsutil.ControlFrameHandler(w, ws.StateClientSide)
	out := &asgi.WebSocketSend{}
	for {
		hdr, err := rd.NextFrame()
		if err != nil {
			return 1011, "upstream connection lost"
		}
		if hdr.OpCode.IsControl() {
			if err := control(hdr, rd); err != nil {
				var closed wsutil.ClosedError
				if errors.As(err, &closed) {
					code := int(closed.Code)
					if code == 1005 || code == 0 {
						code = 1000
					}
					return code, closed.Reason
				}
				return 1011, "upstream connection lost"
			}
			continue
		}
		data, err := io.ReadAll(rd)
		if err != nil {
			if errors.Is(err, wsutil.ErrMessageTooLarge) {
				return 1009, "upstream message too large"
			}
			return 1011, "upstream connection lost"
		}
		out.Data, out.Text = data, hdr.OpCode == ws.OpText
		if err := send(ctx, out); err != nil {
			return 1001, ""
		}
	}
}

// dialWebSocket opens the upstream WebSocket with the client's subprotocols and
// forwarded headers.
func (p *Proxy) dialWebSocket(ctx context.Context, s *asgi.WebSocketScope, up *upstream) (net.Conn, *bufio.Reader, ws.Handshake, error) {
	u := target(up.url, s.RootPath, s.Path, s.RawPath, s.QueryString)
	u.Scheme = "ws"
	h := http.Header{}
	connection := s.Headers.Values("connection")
	for _, f := range s.Headers {
		if hopByHop(f.Name, connection) || wsHandshakeSkip(f.Name) {
			continue
		}
		k := http.CanonicalHeaderKey(string(f.Name))
		h[k] = append(h[k], string(f.Value))
	}
	if xff := forwardedFor(s.Headers, s.Client); xff != "" {
		h.Set("X-Forwarded-For", xff)
	}
	proto := "http"
	if s.Scheme == "wss" {
		proto = "https"
	}
	h.Set("X-Forwarded-Proto", proto)
	if host := originalHost(s.Headers, s.Server); host != "" {
		h.Set("X-Forwarded-Host", host)
	}
	if s.RootPath != "" {
		h.Set("X-Forwarded-Prefix", s.RootPath)
	}
	d := ws.Dialer{
		Timeout:   p.cfg.ConnectTimeout,
		Protocols: s.Subprotocols,
		Header:    ws.HandshakeHeaderHTTP(h),
	}
	return d.Dial(ctx, u.String())
}

// denyWebSocket refuses the client's handshake with a 502 and a one-line body.
func (p *Proxy) denyWebSocket(ctx context.Context, send asgi.Send, msg string) error {
	body := []byte(strings.TrimSpace(msg) + "\n")
	if err := send(ctx, &asgi.WebSocketHTTPResponseStart{Status: 502, Headers: asgi.H("content-type", "text/plain; charset=utf-8")}); err != nil {
		return err
	}
	return send(ctx, &asgi.WebSocketHTTPResponseBody{Body: body})
}
