// Package h1 is asgo's HTTP/1.1 protocol layer without I/O: an incremental request
// parser (Parser), a response framer (Response) and the few canned responses the event
// loop writes itself (Continue100, AppendError).
//
// It owns the wire rules of RFC 9112 for requests: request-line and field syntax,
// message framing (Content-Length, chunked transfer coding with extensions and
// trailers), the Host requirement, persistence (Connection), Expect: 100-continue and
// upgrade detection. It does not decode percent-encoding, build ASGI scopes, read
// sockets or enforce timeouts: the event loop does those with the values found here.
//
// Strictness choices (each refusal is a sentinel *Error; see errors.go):
//   - Bare LF as line terminator is accepted in the request head (RFC 9112 2.2 allows
//     it, as do nginx and net/http) but refused everywhere inside a chunked body, the
//     trailer section included (RFC errata 7633, net/http after CVE-2025-22871): chunk
//     framing must be unambiguous for every proxy in front of us.
//   - A CR not followed by LF anywhere in the head is refused (400).
//   - Identical duplicate Content-Length values, as separate fields (as net/http) or as
//     a list "5, 5" (as h11), are accepted and folded into one (RFC 9110 8.6 allows
//     either choice); differing ones, and empty list elements, are refused.
//   - Any Transfer-Encoding together with Content-Length is refused, as is
//     Transfer-Encoding on an HTTP/1.0 request (RFC 9112 6.1 calls its framing faulty).
//   - Request-targets may hold obs-text bytes (>= 0x80) as nginx and net/http allow, but
//     no control bytes, spaces or '#' (fragments are never sent in a request-target). Absolute-form targets must use the http or https
//     scheme and carry no userinfo.
//   - Up to 8 empty lines before a request line are skipped (RFC 9112 2.2); more is 400.
//   - Field values with control bytes other than HTAB are refused (RFC 9110 5.5, llhttp).
//     h11 tolerates them because some cookies carry 0x01; we stay strict until a real
//     client needs otherwise.
//   - Chunk lines: 1*HEXDIG, then extensions checked against RFC 9112 7.1.1 (tokens or
//     quoted strings) and discarded; no whitespace after the size unless an extension
//     follows (llhttp refuses it by default; h11 allows it); at most 4 KiB per line and a
//     framing-overhead budget, both as net/http.
//
// Use from the event loop, per connection:
//
//	p.Init(cfg)
//	for { // each time input arrives, and again after every event
//		n, ev, err := p.Parse(in)
//		in.Discard(n)
//		switch {
//		case err != nil: // write h1.AppendError(out, err.(*h1.Error).Status, ...) and close
//		case ev == h1.EventHead: // build the scope from p.Request(), start the app
//		case ev == h1.EventBody: // copy p.Body() to the app's inbox
//		case ev == h1.EventEnd: // body complete; p.Trailers()
//		case n == 0: // wait for more input
//		}
//	}
//
// Concurrency: a Parser and a Response belong to one connection and are used on the
// event loop goroutine only (or under the connection's lock); they are not safe for
// concurrent use. The package-level functions and variables are safe for concurrent use.
package h1
