// Package uwsgi is asgo's uwsgi protocol layer without I/O: an incremental parser of
// the binary request packets nginx's uwsgi_pass sends, and the mapping of a packet to
// the ASGI http scope (Request.HTTPScope).
//
// The packet: a 4-byte header (modifier1 u8, datasize u16 little-endian, modifier2 u8),
// then datasize bytes of vars (key length u16 LE, key, value length u16 LE, value,
// repeated), then the body: CONTENT_LENGTH bytes. modifier1 0 is a WSGI/HTTP request,
// the only kind asgo serves; any other value is refused (ErrModifier1, 501). The answer
// is a plain HTTP/1.x response (status line, fields, body) on the same connection.
//
// What nginx sends (ngx_http_uwsgi_module, checked against its source):
//   - the uwsgi_param vars of the location (Debian's /etc/nginx/uwsgi_params: QUERY_STRING,
//     REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH, REQUEST_URI, PATH_INFO ($document_uri,
//     the decoded, normalised path), DOCUMENT_ROOT, SERVER_PROTOCOL, REQUEST_SCHEME,
//     HTTPS (only when on), REMOTE_ADDR, REMOTE_PORT, SERVER_PORT, SERVER_NAME,
//     HTTP_HOST), then one HTTP_* var per request header (uwsgi_pass_request_headers on,
//     the default). A repeated header is one var per field up to nginx 1.22 (Debian
//     12's), and one var with the values joined by ", " (cookies "; ") from 1.23. More
//     than 65535 bytes of vars is refused by nginx itself.
//   - the body always with its length known: nginx reads a chunked client body whole
//     before it connects (uwsgi_request_buffering off streams only bodies that came
//     with Content-Length) and then sends CONTENT_LENGTH with the real length. So a
//     uwsgi body is never chunked, and CONTENT_LENGTH is the only framing: the
//     client's Transfer-Encoding, which nginx still passes as HTTP_TRANSFER_ENCODING,
//     is ignored and left out of the scope.
//   - with uwsgi_pass_request_body off, no body, but CONTENT_LENGTH is still sent:
//     such a location must also set `uwsgi_param CONTENT_LENGTH "";`, or the parser
//     waits for a body that never comes (until the body timeout).
//   - one request per connection: nginx does not keep uwsgi upstream connections alive
//     and reads the response until the connection closes (or Content-Length).
//   - no WebSocket: nginx does not tunnel Upgrade over uwsgi_pass, so every packet is an
//     http scope (a request carrying HTTP_UPGRADE is served as plain HTTP).
//
// Limits (Config): the vars block (64 KiB, the most the u16 datasize allows; 431), the
// number of vars (200; 431), and optionally the body length (413). Keys must be
// visible ASCII and values free of CR, LF and NUL (400).
//
// Use from the event loop, per connection (eventloop/uwsgi_session.go, listening on
// its own --uwsgi-bind, does this):
//
//	p.Init(cfg)
//	for { // each time input arrives, and again after every event
//		n, ev, err := p.Parse(in)
//		in.Discard(n)
//		switch {
//		case err != nil: // answer err.(*uwsgi.Error).Status as HTTP/1.0 (h1.AppendError), close
//		case ev == uwsgi.EventHead: // scope := p.Request().HTTPScope(defaults); start the app
//		case ev == uwsgi.EventBody: // copy p.Body() to the app's inbox
//		case ev == uwsgi.EventEnd: // body complete: stop reading requests on this connection
//		case n == 0: // wait for more input
//		}
//	}
//
// The session must:
//   - build the scope with Request.HTTPScope before the next Parse (the vars point into
//     the input), with ScopeDefaults{RootPath: --root-path, Server: the listener's
//     address, Extensions: http.response.pathsend only, State: the lifespan state};
//     not advertise http.response.trailers (no trailers reach nginx over uwsgi);
//   - feed the body through the same inbox, memory budget, spooling and --max-body-size
//     (413) as HTTP/1.1, and the header and body timeouts (the header timeout covers
//     the packet header and vars);
//   - frame the response with h1.Response as HTTP/1.0 without keep-alive
//     (Begin(0, method == HEAD, false, ...)): a body without Content-Length is then
//     close-delimited, never chunked (nginx's uwsgi module does not de-chunk), and the
//     status line and fields are what nginx parses;
//   - serve one request per connection: after the response, drain the output and
//     close (lingering, as HTTP/1.1 does); bytes after the body are ignored;
//   - on a parse error answer err.Status with h1.AppendError and close; when the peer
//     closes with Parser.Idle false (a truncated packet), close without an answer;
//   - apply the same failure policy as HTTP/1.1 (500 before the response started,
//     abort after), access log line, drain on shutdown (an idle connection closes, a
//     request in flight completes), --max-connections and --limit-concurrency;
//   - use the h1 session's inline path for bodyless requests of asgi.Inliner apps.
//
// Concurrency: a Parser belongs to one connection and is used on the event loop
// goroutine only; it is not safe for concurrent use. A scope built by HTTPScope belongs
// to the app. Package-level functions and variables are safe for concurrent use.
package uwsgi
