// Package demo assembles asgo's demo app (`asgo serve --app demo`, the default) from the
// reference apps:
//
//	GET, HEAD /          hello      "Hello, World!"
//	POST      /echo      echo       the request body back, with a Content-Length
//	POST      /sum       (demo)     "LENGTH SHA256HEX\n" of the body, read as it streams
//	GET       /stream    stream     ?n=K&delay=MS: K lines, one message each
//	GET       /big       big        ?bytes=N: N bytes of 'x' in 64 KiB messages
//	GET       /json      big.JSON   ?bytes=N: a JSON array of about N bytes (64 KiB), compressed by Accept-Encoding
//	GET       /scope     scopedump  the request scope as JSON
//	WebSocket /ws        wsecho     every message sent back
//	WebSocket /chat      chat       broadcast chat rooms (?room=NAME), across instances on the server's channel layer
//	GET, HEAD /chat.html chat       the room's browser client
//
// Options is the place where apps join the demo: the WebSocket apps and chat page
// above, and the WSGI and net/http adapters mounted at /wsgi and /nethttp (which see
// root_path "/wsgi" and "/nethttp"). Unknown paths get 404, known paths with another
// method 405 with an Allow header.
//
// The demo supports lifespan: at startup it stores the time in the state under
// StateStartedAt (so GET /scope lists the key when the server runs lifespan), and the
// lifespan scope is fanned out to every mounted app that supports it.
package demo
