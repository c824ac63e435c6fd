package eventloop

import (
	"errors"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
	"github.com/asgo-dev/asgo/protocol/uwsgi"
)

// uwsgiExtensions are the extensions of a uwsgi scope: pathsend (with sendfile on its
// cleartext connection), and no trailers
// (nginx's uwsgi module passes none).
var uwsgiExtensions = map[string]any{asgi.ExtHTTPResponsePathsend: map[string]any{asgi.PathsendSendfile: true}}

// uwsgiSession serves one uwsgi request (nginx's uwsgi_pass) on a connection of a
// --uwsgi-bind listener, as protocol/uwsgi's package doc prescribes: the packet is
// parsed by uwsgi.Parser, and the request runs through the HTTP/1.1 stream machinery
// (inbox, spooling, limits, failure policy, access log) with an HTTP/1.0 response
// without keep-alive; the connection closes after it. Owned by the loop goroutine.
type uwsgiSession struct {
	h1     h1Session // the request's stream state: active, reading, responseDone
	parser *uwsgi.Parser
	done   bool // the packet was read: later bytes are ignored
	// proxyClient is the client of the connection's PROXY header (proxyproto.go): the
	// scope's client when the packet has no REMOTE_ADDR.
	proxyClient *asgi.Addr
}

func newUWSGISession() *uwsgiSession {
	u := &uwsgiSession{}
	u.h1.draining = true // one request per connection, never keep-alive
	return u
}

func (u *uwsgiSession) onData(c *conn, data []byte) (int, error) {
	if u.done {
		return len(data), nil
	}
	if u.parser == nil {
		u.parser = &uwsgi.Parser{}
		cfg := c.srv.cfg.UWSGI
		if cfg.MaxBodyBytes == 0 {
			cfg.MaxBodyBytes = c.srv.cfg.MaxBodyBytes
		}
		u.parser.Init(cfg)
	}
	consumed := 0
	for !c.closing && !c.closed && !u.done {
		n, ev, err := u.parser.Parse(data[consumed:])
		consumed += n
		if err != nil {
			return consumed, u.fail(c, err)
		}
		switch ev {
		case uwsgi.EventNone:
			return consumed, nil
		case uwsgi.EventHead:
			if err := u.onHead(c); err != nil {
				return consumed, err
			}
		case uwsgi.EventBody:
			u.h1.onBody(c, u.parser.Body())
		case uwsgi.EventEnd:
			u.done = true
			u.h1.onEnd(c)
		}
	}
	if u.done {
		consumed = len(data) // bytes after the packet are ignored
	}
	return consumed, nil
}

// fail answers a parse error with its status and closes.
func (u *uwsgiSession) fail(c *conn, err error) error {
	status, reason := 400, err.Error()
	var ue *uwsgi.Error
	if errors.As(err, &ue) {
		status, reason = ue.Status, ue.Reason
	}
	c.srv.log.Info("bad uwsgi request", "client", c.gc.RemoteAddr(), "status", status, "err", reason)
	c.loop.stats.rejectStatus(status)
	if st := u.h1.active; st == nil || !st.headWritten() {
		c.queue(h1.AppendError(nil, status, reason))
	}
	if st := u.h1.active; st != nil {
		st.disconnect()
	}
	return err
}

// onHead builds the scope from the vars and starts the app, as h1Session.onHead does.
func (u *uwsgiSession) onHead(c *conn) error {
	req := u.parser.Request()
	cfg := &c.srv.cfg
	_, server := c.addrs()
	scope := req.HTTPScope(uwsgi.ScopeDefaults{RootPath: cfg.RootPath, Server: server,
		Extensions: uwsgiExtensions, State: c.srv.lifespanState()})
	if scope.Client == nil {
		scope.Client = u.proxyClient
	}
	c.client = scope.Client // REMOTE_ADDR: the access log names the real client
	h := &u.h1
	if cfg.LimitConcurrency > 0 && c.srv.inflight.Load() >= int64(cfg.LimitConcurrency) {
		return h.reject(c, 503, "server is at its concurrency limit")
	}
	st := &h1Stream{c: c, h: h, scope: scope, isHead: scope.Method == "HEAD", started: time.Now().UnixNano(), forceClose: true}
	st.bodyLength = max(req.ContentLength, 0)
	h.start(c, st, req.ContentLength > 0, false)
	return nil
}

func (u *uwsgiSession) onFlushed(c *conn) { u.h1.onFlushed(c) }

func (u *uwsgiSession) onTimer(c *conn) {
	if u.h1.active == nil && !u.done {
		if u.parser != nil { // part of a packet arrived
			c.srv.log.Info("uwsgi request head timed out", "client", c.gc.RemoteAddr())
			c.queue(h1.AppendError(nil, 408, "request header timeout"))
			c.closeAfterFlush()
			return
		}
		c.closeNow()
		return
	}
	u.h1.onTimer(c)
}

func (u *uwsgiSession) onDrain(c *conn) { u.h1.onDrain(c) }

func (u *uwsgiSession) onClose(c *conn) { u.h1.onClose(c) }
