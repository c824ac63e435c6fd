// Package eventloop runs asgo's servers on gnet v2: it is the only package that imports
// gnet. It owns the engine (one event loop per core, SO_REUSEPORT listeners), the
// per-connection sessions that drive the protocol state machines of protocol/...,
// write batching, backpressure, the per-loop timer wheel, the executor that runs apps
// on goroutines, and graceful drain.
//
// # Files
//
// The transport is at the bottom and knows the sessions only through the session
// interface; the sessions sit above it, and nothing points back down-to-up:
//
//	server.go      Server and the gnet callbacks; asks upgrade.go for a connection's first session
//	listeners.go   Unix sockets, inherited and systemd sockets: an accept goroutine each,
//	               connections handed to a loop with gnet's Engine.Register; sd_notify
//	uwsgi_session.go  a --uwsgi-bind connection: one uwsgi packet served through h1Stream
//	proxyproto.go  --proxy-protocol: the trusted-peer check, and proxySession, which reads the
//	               PROXY header and hands the connection to the session it would have had
//	tls.go         TLS listeners: the handshake on a short-lived goroutine over an in-memory
//	               bridge, then records decrypted and encrypted on the loop (handshakeSession)
//	conn.go        a connection: the session interface, pending output, flush, backpressure, close
//	shared.go      shared frames (broadcasts) and files: queued by reference, written with
//	               writev, and sendfile for files
//	refbody.go     large HTTP/1.1 response bodies by reference: one writev, the sender waits
//	rawio.go       the loop's raw write/writev; gnet keeps what the socket did not take
//	sendfile.go    http.response.pathsend: the cheap open, sendfile on cleartext HTTP/1.1,
//	               pread copies for TLS and HTTP/2
//	loop.go        a loop: its connections, timer tick, pools (parsers, frame readers, buffers)
//	resume.go      the loop's resumer: connections that used up their turn go on next poll
//	timer.go executor.go body.go sys.go config.go logger.go   the rest of the transport
//	app.go         running an app: the call with its panic recovery, each protocol's
//	               failure policy (finish), the access-log line
//	upgrade.go     every protocol switch: prior-knowledge h2c, Upgrade: h2c, Upgrade: websocket
//	scope.go       the scopes: one builder for HTTP/1.1 and HTTP/2, one for WebSocket
//	stream.go      what the HTTP/1.1 and HTTP/2 streams share: the send-order lock, pathsend
//	h1_session.go  HTTP/1.1 connection: parse, pipeline, keep-alive, timeouts
//	h1_stream.go   HTTP/1.1 request and response: the app's receive and send
//	h2_session.go  HTTP/2 connection: the protocol/h2 state machine, its Handler, timers
//	h2_stream.go   HTTP/2 stream: receive, send within flow-control windows, inline backlog
//	h2_websocket.go  WebSocket over an HTTP/2 stream (RFC 8441): extended CONNECT,
//	               frames in DATA within the windows, END_STREAM as the close
//	h2_websocket_app.go  its app: goroutine mode (inbox, blocking send), event mode
//	ws_session.go  WebSocket core: frames in, pings, closing handshake, encoding sends
//	ws_goroutine.go  goroutine mode: the app's receive on a bounded inbox, its send
//	ws_events.go   event mode: an asgi.WebSocketEventer called on the loop per message
//
// # Threading model
//
// gnet callbacks (OnOpen, OnTraffic, OnClose) and functions scheduled with Execute run
// on a loop goroutine; fields documented "owned by the loop" are only touched there.
// Every callback runs inside loop.guard, which recovers a panic and closes only the
// connection concerned. Apps run on executor goroutines (or, for scopes whose app
// implements asgi.Inliner, on the loop itself). Fields documented "guarded by c.mu"
// are shared between the loop and app goroutines under the connection's mutex;
// functions that expect it held end in Locked.
//
// # The session interface (conn.go)
//
// A connection has one session at a time (conn.session): the protocol it speaks.
// Every connection starts with an HTTP/1.1 session (firstSession; a --uwsgi-bind
// connection with a uwsgiSession instead; with --proxy-protocol, a proxySession reads
// the PROXY header first and then switches to that one; a TLS connection has a
// handshakeSession until its handshake is done, then HTTP/2 or HTTP/1.1 by ALPN, see
// tls.go); upgrade.go switches
// it to an HTTP/2 session (client preface, or "Upgrade: h2c") or a WebSocket session
// ("Upgrade: websocket") by assigning conn.session. The transport calls the session,
// always on the connection's loop goroutine and inside loop.guard:
//
//   - onData(c, data): from conn.onTraffic (gnet's OnTraffic, or a wake-up), with all
//     unread input. It returns how many bytes it consumed; gnet keeps the rest. A
//     session that cannot take more yet (a pipelined request behind a response in
//     progress, a full WebSocket inbox) leaves it unconsumed and sets c.needWake or
//     wakes the connection later (conn.wake). A session that used up its turn (the
//     HTTP/1.1 turn budget: 128 requests or 256 KiB per callback) sets c.yielded and
//     continues on the loop's next poll (resume.go), after the other connections'
//     events. After a switch the new session gets the rest of the same input at once.
//     An error closes the connection after its output.
//   - onFlushed(c): from conn.flush, after the pending output was handed to gnet.
//     Flushes are scheduled by app goroutines' sends (conn.scheduleFlushLocked: the
//     loop's flush list, run by one gnet task per batch, loop.queueFlush) and
//     run at the end of every loop event, so this is where a session acts on what its
//     apps did: HTTP/1.1 completes a response and parses the next request, HTTP/2
//     closes a drained connection and re-arms its timer, WebSocket starts reading
//     after the 101 and times the closing handshake.
//   - onTimer(c): from the loop's timer wheel when the connection's single timer fires
//     (header, body, keep-alive, preface, ping, handshake timeouts: the session knows
//     which one is armed).
//   - onDrain(c): from Server.Shutdown (run on every loop): stop taking new work, let
//     work in flight finish (Connection: close, GOAWAY, close 1001), then close.
//   - onClose(c): once, when the connection is gone (gnet's OnClose) or starts
//     lingering (conn.linger): the session tells its apps (http.disconnect,
//     websocket.disconnect, cancelled contexts) and releases what it holds.
//
// # The stream interface
//
// A stream is one app call: an HTTP/1.1 request (h1Stream), an HTTP/2 stream
// (h2Stream) or a goroutine-mode WebSocket (wsSession with its wsApp). The session
// creates it on the loop with its scope and hands it to the executor (its run method,
// in app.go), or runs the app inline on the loop. The app's receive and send are the
// stream's methods and run on the app's goroutine:
//
//   - receive takes c.mu and pops the stream's inbox (request body chunks in a
//     bodyQueue, WebSocket messages), which the loop fills under c.mu; when it is
//     empty it waits on a channel the loop closes (recvWait). An inline app must not
//     wait: its receive fails with errInlineWouldBlock.
//   - send checks the message against the stream's ASGI order (asgi.HTTPResponseOrder,
//     asgi.WebSocketOrder) and encodes it into the connection's pending output, all
//     under c.mu, then schedules one flush; above WriteHighWater unsent bytes it
//     blocks (conn.waitWritable) until the loop sees the output drain below
//     WriteLowWater. HTTP/2 sends also wait for flow-control windows.
//   - finish (app.go) runs when the app returned or panicked: the protocol's failure
//     policy (500 before the response started; after it, abort the HTTP/1.1
//     connection, RST_STREAM INTERNAL_ERROR, or WebSocket close 1011).
//
// The HTTP streams share http.response.pathsend through the httpStream interface
// (stream.go, sendfile.go); HTTP/1.1 also implements fileSender (sendfile). In WebSocket event mode there is no stream: the handler is called on
// the loop per message (ws_events.go) and sends with SendNow.
//
// # gnet's limits
//
// gnet has no deadlines, no read pause and no drained event, and Close drops unsent
// output. So every timeout is a timer-wheel entry, inbound bytes are capped (request
// bodies that the app does not consume fast enough are spooled to a temporary file,
// within per-request and server-wide quotas), Send blocks above a high-water mark of
// unsent bytes until the loop sees the output drained below the low-water mark, and
// connections are closed only after their output has been written. The loop polls every
// connection with unsent output on its tick (loop.pollWatch): that releases blocked
// senders, and closes connections whose output makes no progress for SendTimeout or
// keeps growing beyond MaxUnsentBytes.
package eventloop
