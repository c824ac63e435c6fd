// Package wsgi hosts classic blocking handlers beside async apps: it owns the WSGI-style
// contract of asgo (PEP 3333 in Go terms) and the adapter that runs such handlers on a
// fixed pool of worker goroutines behind the ASGI-style asgi.App interface.
//
// A Handler receives an Environ (the CGI and wsgi.* keys of PEP 3333) and a StartResponse
// callable, and returns an Iterable body. For a request that came over the uwsgi
// protocol (nginx's uwsgi_pass), the environ also holds the CGI variables nginx sent
// (DOCUMENT_ROOT, REQUEST_URI, HTTPS, custom uwsgi_param vars ...: every var of the
// scope's asgi.ExtUWSGIVars but HTTP_*, wsgi.* and SCRIPT_NAME/PATH_INFO, which keep
// the scope's split):
//
//	func hello(environ wsgi.Environ, startResponse wsgi.StartResponse) (wsgi.Iterable, error) {
//		if _, err := startResponse("200 OK", [][2]string{{"Content-Type", "text/plain"}}, nil); err != nil {
//			return nil, err
//		}
//		return wsgi.Bytes([]byte("Hello, world!\n")), nil
//	}
//
// New wraps a Handler into an *App, which is itself an asgi.App, so the same handler is
// served over HTTP/1.1 and HTTP/2 alike. The PEP 3333 rules carry over:
//
//   - wsgi.input streams the request body: the handler starts before the body has
//     arrived, and each Read asks the server for at most one more http.request message,
//     so the adapter never holds more than one message and a slow reader is left to the
//     server's flow control (asgo's HTTP/2 server grants window only as the body is
//     consumed; its HTTP/1.1 server spools what the app has not read yet to a temporary
//     file) instead of a large upload being buffered in memory.
//   - start_response returns a write callable; the status line and headers are sent with
//     the first non-empty body chunk (or the first write call, or at the end for an empty
//     body). A second start_response without exc_info is an error; with exc_info it may
//     replace the headers until they were sent, after that it aborts the response.
//   - The body's Close method (if it implements io.Closer) is called exactly once on
//     every path: normal end, error, panic, client disconnect and timeout.
//   - An error or panic in the handler is logged with the request and answered with 500,
//     or aborts the response when the headers were already sent. The worker survives.
//   - A body returned by wsgi.file_wrapper is sent with http.response.pathsend when the
//     server offers that extension, otherwise it is streamed in blocks.
//
// The worker pool (Pool) has a fixed number of places (Workers) and a bounded queue. A
// request that finds the queue full is answered at once with 503 and Retry-After. A
// handler running longer than Config.Timeout gets its response aborted (504 when nothing
// was sent yet) and is logged; its place stays taken until the handler returns, because
// a goroutine cannot be stopped from outside (the handler may watch Environ.Context).
//
// Where the handler runs: when the server offers an asgi.Detacher (asgo's does, for
// every call off the event loop), the handler runs on the goroutine of the server's
// call, in a place of the pool, and a handler over time is answered by its timer, which
// then ends the server's call through the Detacher: the connection goes on while the
// handler runs out. Without one, the handler runs on one of the pool's worker
// goroutines while the calling goroutine waits for it, the timer or the client.
package wsgi
