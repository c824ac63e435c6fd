package nethttp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Errors of request construction; the adapter answers them with 400.
var (
	// ErrBadRequestTarget reports a path and query that net/http cannot parse as a
	// request URI.
	ErrBadRequestTarget = errors.New("nethttp: invalid request target")
	// ErrBadContentLength reports a Content-Length header that is not one decimal number.
	ErrBadContentLength = errors.New("nethttp: invalid Content-Length")
)

// newRequest builds the *http.Request for scope; its Body reads with receive unless the
// request carries no body. local is the server address for http.LocalAddrContextKey.
func newRequest(ctx context.Context, scope *asgi.HTTPScope, receive asgi.Receive, local net.Addr) (*http.Request, error) {
	r := http.Request{Method: scope.Method}
	r.RequestURI = requestURI(scope)
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return nil, ErrBadRequestTarget
	}
	stripRoot(u, scope.RootPath)
	r.URL = u
	r.Proto, r.ProtoMajor, r.ProtoMinor = proto(scope.HTTPVersion)
	r.Header = newHeader(scope.Headers, r.ProtoMajor == 2)
	r.Host = hostOf(r.Header, scope)
	delete(r.Header, "Host")
	if err := setBodyFraming(&r); err != nil {
		return nil, err
	}
	if r.Body == nil {
		r.Body = &requestBody{ctx: ctx, receive: receive, more: true}
	}
	r.Close = wantsClose(&r)
	if scope.Client != nil {
		r.RemoteAddr = net.JoinHostPort(scope.Client.Host, strconv.Itoa(scope.Client.Port))
	}
	if scope.Scheme == "https" {
		// The contract does not carry TLS details; a non-nil state tells handlers that
		// the request came over TLS, as with net/http.
		r.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: hostOnly(r.Host)}
	}
	if local != nil {
		ctx = context.WithValue(ctx, http.LocalAddrContextKey, local)
	}
	return r.WithContext(ctx), nil
}

func requestURI(scope *asgi.HTTPScope) string {
	raw := scope.RawPath
	if len(raw) == 0 {
		raw = []byte(scope.Path)
	}
	if len(scope.QueryString) == 0 {
		return string(raw)
	}
	return string(raw) + "?" + string(scope.QueryString)
}

// stripRoot removes the root path the app is mounted under from u.Path and u.RawPath,
// as http.StripPrefix does.
func stripRoot(u *url.URL, root string) {
	root = strings.TrimSuffix(root, "/")
	if root == "" {
		return
	}
	p, ok := cutRoot(u.Path, root)
	if !ok {
		return
	}
	rp := ""
	if u.RawPath != "" {
		if rp, ok = cutRoot(u.RawPath, root); !ok {
			rp = ""
		}
	}
	u.Path, u.RawPath = p, rp
}

// cutRoot returns path below root ("/" for root itself) when root is a segment-aligned
// prefix of path.
func cutRoot(path, root string) (string, bool) {
	rest, ok := strings.CutPrefix(path, root)
	switch {
	case !ok:
		return path, false
	case rest == "":
		return "/", true
	case rest[0] == '/':
		return rest, true
	}
	return path, false
}

func proto(version string) (string, int, int) {
	switch version {
	case "2":
		return "HTTP/2.0", 2, 0
	case "1.0":
		return "HTTP/1.0", 1, 0
	}
	return "HTTP/1.1", 1, 1
}

// newHeader converts the scope's fields, with one allocation for all values and one
// for their slices, as net/textproto does. Over HTTP/2, cookie fields are joined with
// "; " into one value, as net/http's HTTP/2 server does.
func newHeader(fields asgi.Headers, http2 bool) http.Header {
	h := make(http.Header, len(fields))
	values := httpx.JoinValues(fields)
	strs := make([]string, len(fields))
	off := 0
	for i := range fields {
		name := fields[i].Name
		v := values[off : off+len(fields[i].Value)]
		off += len(fields[i].Value)
		if len(name) == 0 || name[0] == ':' {
			continue
		}
		key := canonicalKey(name)
		switch old := h[key]; {
		case old == nil:
			strs[i] = v
			h[key] = strs[i : i+1 : i+1]
		case http2 && key == "Cookie":
			old[0] += "; " + v
		default:
			h[key] = append(old, v)
		}
	}
	return h
}

// canonicalKey returns the canonical form of a header name, without allocating for
// the common ones.
func canonicalKey(name []byte) string {
	if k, ok := commonKeys[string(name)]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(string(name))
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language",
		"Connection", "Content-Type", "Content-Length", "Cookie", "Cache-Control", "Referer",
		"Origin", "Authorization", "Range", "If-Range", "If-None-Match", "If-Modified-Since",
		"Expect", "Transfer-Encoding", "Te", "Upgrade", "X-Forwarded-For", "X-Forwarded-Proto"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// hostOf is the Host header (HTTP/2 servers put :authority there), else the server
// address.
func hostOf(h http.Header, scope *asgi.HTTPScope) string {
	if v := h["Host"]; len(v) > 0 {
		return v[0]
	}
	if scope.Server != nil {
		return net.JoinHostPort(scope.Server.Host, strconv.Itoa(scope.Server.Port))
	}
	return ""
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// setBodyFraming sets ContentLength and TransferEncoding as net/http's server does: a
// request without Content-Length is chunked (-1) if it says so, has no body over
// HTTP/1.x otherwise, and an unknown length over HTTP/2. Expect: 100-continue is
// removed from the header, as net/http handles it itself.
func setBodyFraming(r *http.Request) error {
	if te := r.Header["Transfer-Encoding"]; len(te) > 0 {
		r.TransferEncoding = []string{"chunked"}
		r.ContentLength = -1
		delete(r.Header, "Transfer-Encoding")
	} else if cl := r.Header["Content-Length"]; len(cl) > 0 {
		n, err := strconv.ParseInt(textproto.TrimString(cl[0]), 10, 64)
		if err != nil || n < 0 {
			return ErrBadContentLength
		}
		r.ContentLength = n
	} else if r.ProtoMajor == 2 {
		r.ContentLength = -1
	}
	if r.ContentLength == 0 {
		r.Body = http.NoBody
	}
	if r.ProtoAtLeast(1, 1) && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		delete(r.Header, "Expect")
	}
	return nil
}

// wantsClose reports whether an HTTP/1.x client asked to close the connection.
func wantsClose(r *http.Request) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	conn := strings.ToLower(strings.Join(r.Header["Connection"], ","))
	if r.ProtoMinor == 0 {
		return !strings.Contains(conn, "keep-alive")
	}
	return strings.Contains(conn, "close")
}

func serverAddr(a *asgi.Addr) net.Addr {
	return &net.TCPAddr{IP: net.ParseIP(a.Host), Port: a.Port}
}

// requestBody is Request.Body: it receives one http.request message when a Read finds
// nothing buffered, so the body streams and flow control reaches the client. Read is
// not safe for concurrent use (as with net/http); Close may be called from any goroutine.
type requestBody struct {
	ctx     context.Context
	receive asgi.Receive
	buf     []byte
	more    bool
	err     error
	closed  atomic.Bool
}

// Read reads the body; it returns io.ErrUnexpectedEOF when the client went away before
// the end, and http.ErrBodyReadAfterClose after Close.
func (b *requestBody) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, http.ErrBodyReadAfterClose
	}
	if len(p) == 0 {
		return 0, nil
	}
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		b.fill()
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *requestBody) fill() {
	if !b.more {
		b.err = io.EOF
		return
	}
	msg, err := b.receive(b.ctx)
	if err != nil {
		b.err = err
		return
	}
	switch m := msg.(type) {
	case *asgi.HTTPRequest:
		b.buf, b.more = m.Body, m.MoreBody
	default: // http.disconnect: the client left before the end of the body
		b.err = io.ErrUnexpectedEOF
	}
}

// Close makes later reads fail; the server discards the unread rest.
func (b *requestBody) Close() error {
	b.closed.Store(true)
	return nil
}
