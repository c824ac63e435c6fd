// Package demo assembles asgo's demo app (`asgo serve --app demo`, the default) from the
// reference apps:
//
//	GET, HEAD /        hello        "Hello, World!"
//	POST      /echo    echo         the request body back, with a Content-Length
//	GET       /stream  stream       ?n=K&delay=MS: K lines, one message each
//	GET       /big     big          ?bytes=N: N bytes of 'x' in 64 KiB messages
//	GET       /scope   scopedump    the request scope as JSON
//
// Options is the place where the other apps join: the WebSocket echo at /ws, the chat
// at /chat with its page at /chat.html, and the mounted WSGI and net/http adapters at
// /wsgi and /nethttp. Unknown paths get 404, known paths with another method 405 with
// an Allow header. The lifespan scope is fanned out to every app that supports it.
package demo
