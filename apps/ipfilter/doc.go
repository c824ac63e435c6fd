// Package ipfilter is middleware that admits or refuses clients by IP address: allow
// and deny lists of addresses and CIDR prefixes, IPv4 and IPv6.
//
// The rule: an address in the deny list is refused; with a non-empty allow list, an
// address not in it is refused too; everything else is admitted. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are matched as the IPv4 address they carry, so 10.0.0.0/8
// also covers ::ffff:10.1.2.3.
//
// The client address is the scope's Client (which proxy-header processing may have
// rewritten before this middleware runs). A scope without a client address, or with one
// that does not parse as an IP (a Unix socket), is treated as an address in no list:
// refused when there is an allow list, admitted otherwise.
//
// Refused HTTP requests get 403 Forbidden; refused WebSocket handshakes get 403 before
// acceptance (a websocket.http.response denial when the server offers it, else
// websocket.close). The lifespan scope passes through to the wrapped app, and so do the
// app's asgi.Inliner and asgi.WebSocketEventer capabilities for admitted scopes.
//
// Lookups use sorted, merged, non-overlapping address ranges and a binary search: a
// lookup costs O(log n) comparisons for n list entries and allocates nothing.
package ipfilter
