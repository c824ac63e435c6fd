// Package proxyheaders is middleware that believes the proxy headers of trusted peers,
// as uvicorn's ProxyHeadersMiddleware does (--proxy-headers, --forwarded-allow-ips):
// behind nginx or another reverse proxy, the app's scope then shows the real client's
// address and the scheme the client used, not the proxy's.
//
// Only a peer in the trusted set (Config.Trusted: IP addresses, CIDR prefixes, or "*"
// for any; default 127.0.0.1) is believed: the scope's Client must be in it. For such a
// peer, on HTTP and WebSocket scopes:
//
//   - X-Forwarded-For (repeated fields are joined with ","): walking from the right,
//     trusted addresses are proxies and are skipped; the first address that is not
//     trusted is the client (uvicorn 0.30+). When every address is trusted, the
//     left-most is the client. The client's port is 0 (the header has none), unless
//     the entry carries one ("192.0.2.1:5000", "[2001:db8::1]:5000").
//   - X-Forwarded-Proto: http, https, ws or wss (case-insensitive) becomes the scheme,
//     mapped to the scope type: http and ws are "http" on HTTP scopes and "ws" on
//     WebSocket scopes, https and wss are "https" / "wss". With a list ("https,
//     http"), the right-most entry counts: the one the trusted peer added.
//   - Forwarded (RFC 7239): elements are walked from the right like X-Forwarded-For,
//     by their for= node; the chosen element gives the client (for=, an IP address,
//     quoted or not, IPv6 in "[...]", with an optional port), the scheme (proto=) and
//     the host header (host=). Obfuscated identifiers ("_hidden") and "unknown" leave
//     the client unchanged. X-Forwarded-For and X-Forwarded-Proto win over Forwarded
//     when both are present: Forwarded fills in only what they do not say.
//
// A value that does not parse (an address that is not an IP, an unknown scheme, a
// Forwarded field that breaks the RFC's syntax) is ignored: what it would have set
// stays as it was. An untrusted peer's headers change nothing.
//
// Trust only peers that set these headers themselves (nginx: proxy_set_header
// X-Forwarded-For $proxy_add_x_forwarded_for; X-Forwarded-Proto $scheme): a proxy
// that passes a client's header through unchanged lets the client choose its address.
// nginx passes a client's Forwarded field through unless told otherwise, which is why
// X-Forwarded-For wins over it.
//
// The middleware never changes the server's scope: it calls the wrapped app with a
// copy. The lifespan scope passes through, and so do the app's asgi.Inliner and
// asgi.WebSocketEventer capabilities (asked with the rewritten scope). It must run
// outside any middleware that looks at the client (apps/ipfilter): asgo.Serve puts it
// outermost.
package proxyheaders
