// Package nethttp runs any net/http Handler as an asgi.App, so existing http.Handlers
// (ServeMux, FileServer, middleware chains) are served by asgo over HTTP/1.1 and HTTP/2
// beside async apps.
//
// For each request the adapter builds an *http.Request from the scope: Method, URL,
// RequestURI, Proto, Header (canonical keys; Host moved to Request.Host as net/http
// does), ContentLength, TransferEncoding, RemoteAddr, a streaming Body that asks the
// server for one http.request message at a time, and a Context cancelled when the
// client goes away or the handler returns. When the app is mounted below a root path,
// URL.Path and URL.RawPath have that prefix removed (as http.StripPrefix does) while
// RequestURI stays the full target.
//
// The http.ResponseWriter behaves as net/http's own server's: the header map is
// snapshotted at WriteHeader, up to 2 KiB of body is buffered so a short response gets a
// Content-Length, Content-Type is sniffed when unset, Flush (and
// http.ResponseController's Flush) sends what is buffered, 1xx, 204 and 304 responses
// carry no body (Write returns http.ErrBodyNotAllowed), writing more than a declared
// Content-Length returns http.ErrContentLength, and trailers declared with a "Trailer"
// header or http.TrailerPrefix are sent as http.response.trailers when the server
// offers that extension. Expect: 100-continue is left to the server: the body is not
// read until the handler reads it, so the server can send 100 Continue on the first
// receive, as net/http does on the first Body.Read.
//
// Not offered: Hijack (http.Hijacker) and read/write deadlines; WebSockets go through
// the ASGI websocket scope instead. Interim 1xx responses written with WriteHeader are
// dropped, since the contract has no message for them. The Date header is left to the
// server. A panicking handler is logged (except http.ErrAbortHandler) and its response
// aborted, or answered 500 when nothing was sent yet.
//
// Each request runs its handler on the goroutine the server calls the app on, as
// net/http runs each request on its own goroutine; blocking handlers therefore never
// block the event loop. (Handlers that must be bounded in number belong on the
// WSGI-style adapter's worker pool, package apps/wsgi.)
//
// The response state (header snapshot, body buffer) is pooled between requests; the
// ResponseWriter the handler gets is a per-request handle that stops working when
// ServeHTTP returns (writes fail with ErrWriteAfterReturn, Header returns a detached
// map), so a handler that keeps it cannot reach a later request. The response header
// map, the Request, its Header and Body are per request, as with net/http: a handler
// may keep them.
package nethttp
