// Package proxy is a forwarding (reverse) proxy app: it sends the HTTP requests and
// WebSocket connections it serves to upstream servers and streams their answers back.
// Mount it at a prefix (apps/mount); the upstream sees the path below the prefix,
// appended to the upstream URL's own path: with --proxy /api=http://10.0.0.5:8080/v1,
// GET /api/users?x=1 goes to http://10.0.0.5:8080/v1/users?x=1.
//
// # Upstreams and passive health
//
// Requests go round robin over the upstreams. An upstream that fails to connect, or
// that does not answer within the head timeout, is marked down for Config.DownFor
// (10 s) and logged; requests skip it meanwhile. When every upstream is down, they are
// tried anyway. A request whose upstream refused the connection before any of the
// request body was read is retried on the next upstream.
//
// # HTTP
//
// net/http's Transport carries the requests, with its own connection pool. Bodies
// stream both ways with backpressure: the request body is read from receive only as
// the upstream connection takes it, and the response body is sent on message by
// message (more_body) as it arrives. Hop-by-hop header fields (RFC 9110 7.6.1:
// Connection and the fields it names, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization, Trailer) are
// dropped both ways. The upstream gets Host set to its own address and the client's
// in X-Forwarded-For (appended), X-Forwarded-Proto, X-Forwarded-Host and, when
// mounted below a prefix, X-Forwarded-Prefix.
//
// Failures: an upstream that cannot be reached, or closes the connection before its
// response head, gives 502 Bad Gateway with a one-line reason; no head within
// Config.HeadTimeout (60 s, counted from the end of the request body) gives 504
// Gateway Timeout. An upstream that dies in the middle of the body makes ServeASGI
// return an error: the server aborts the response, so the client sees a truncated
// body as an error rather than as a complete response.
//
// # WebSocket
//
// A WebSocket scope is forwarded to the upstream's ws:// URL with the client's
// subprotocols and headers (the handshake's own fields excepted). The client is
// accepted only once the upstream accepted, with the subprotocol the upstream chose;
// an upstream that refuses or cannot be reached gets the client a 502 denial. Messages
// are relayed both ways as text or binary; a close code from either side is passed on
// to the other (an upstream that drops without a close frame gives the client 1011).
package proxy
