package eventloop

import (
	"net"
	"net/netip"

	"github.com/panjf2000/gnet/v2"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/proxyproto"
)

// The PROXY protocol (Config.ProxyProtocol): every connection starts with a header an
// L4 proxy (haproxy's send-proxy / send-proxy-v2) writes before the client's first
// byte, naming the client's and server's addresses. A connection is first served by a
// proxySession that reads the header and then hands the connection, and the bytes
// after the header, to the session it would have had (HTTP/1.1 with its HTTP/2 and
// WebSocket switches, or uwsgi), through the usual session switch of conn.onTraffic.
// Plain connections without Config.ProxyProtocol never see any of this.

// proxyParser is stateless and shared (proxyproto.Parser is safe for concurrent use).
var proxyParser proxyproto.Parser

// proxyPeerTrusted reports whether the peer of a new connection may send a PROXY
// header: Config.ProxyProtocolTrusted, or loopback when it is nil. A Unix socket
// peer has no address and is asked about as the zero netip.Addr.
func (s *Server) proxyPeerTrusted(gc gnet.Conn) bool {
	var ip netip.Addr
	if a, ok := gc.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.AddrPort().Addr().Unmap()
	}
	if s.cfg.ProxyProtocolTrusted == nil {
		return ip.IsLoopback()
	}
	return s.cfg.ProxyProtocolTrusted(ip)
}

// proxySession reads a connection's PROXY header, then switches to next. Loop only.
type proxySession struct {
	next session
	tls  bool // a TLS listener: the handshake follows the header (next is unused)
}

func (p *proxySession) onData(c *conn, data []byte) (int, error) {
	n, h, err := proxyParser.Parse(data)
	if err != nil {
		c.srv.log.Info("bad PROXY protocol header; closing", "client", c.gc.RemoteAddr(), "err", err)
		c.markGone()
		c.closeNow()
		return 0, nil
	}
	if n == 0 {
		return 0, nil // the header is incomplete: wait (bounded by the parser's limits)
	}
	if h.HasAddresses() {
		c.client = toAddrPort(h.Source)
		c.server = toAddrPort(h.Destination)
		if u, ok := p.next.(*uwsgiSession); ok {
			u.proxyClient = c.client
		}
	}
	// LOCAL, UNSPEC, UNKNOWN and Unix headers keep the socket's addresses.
	if p.tls {
		c.startTLS() // onTraffic hands it the rest of the input (tls.go)
		return n, nil
	}
	c.session = p.next
	c.setTimer(c.srv.cfg.HeaderTimeout) // the request head's own time starts now
	return n, nil
}

func toAddrPort(a netip.AddrPort) *asgi.Addr {
	return &asgi.Addr{Host: a.Addr().Unmap().String(), Port: int(a.Port())}
}

func (p *proxySession) onTimer(c *conn) {
	c.srv.log.Info("PROXY protocol header timed out; closing", "client", c.gc.RemoteAddr())
	c.markGone()
	c.closeNow()
}

func (p *proxySession) onDrain(c *conn) {
	c.markGone()
	c.closeNow()
}

func (p *proxySession) onFlushed(*conn) {}

func (p *proxySession) onClose(*conn) {}
