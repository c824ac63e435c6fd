package asgi

import "errors"

// WebSocketEventer is implemented by apps that can serve a WebSocket scope as events on
// the event loop instead of a goroutine blocked in Receive: an idle connection then
// costs no goroutine stack, and a message costs no goroutine handoff. The messages
// and their order are those of the ASGI websocket scope; only the direction of the
// calls changes (the server calls the handler with each message receive would
// return). Servers that do not support it call ServeASGI as usual, so an app that
// implements it must serve the same scopes through ServeASGI too.
type WebSocketEventer interface {
	// WebSocketHandler returns the handler for scope, or nil to have the server call
	// ServeASGI instead. It is called on the event loop and must not block.
	WebSocketHandler(scope *WebSocketScope) WebSocketHandler
}

// WebSocketHandler receives one WebSocket connection's messages as calls.
type WebSocketHandler interface {
	// HandleWebSocket is called with every message ServeASGI's receive would return,
	// in order: websocket.connect first, then websocket.receive for each message, and
	// websocket.disconnect exactly once, last (also after the app sent
	// websocket.close, or after an error). Calls for one connection never overlap.
	// They run on the event loop: HandleWebSocket must not block, and neither msg nor
	// the Data of a websocket.receive may be used after it returns (copy what you
	// keep).
	//
	// send takes the messages ServeASGI's send would (websocket.accept,
	// websocket.send, websocket.close, the denial response). It may be kept and used
	// from any goroutine until websocket.disconnect. Returning an error fails the
	// connection as an error returned by ServeASGI does (500 before the handshake
	// was answered, close 1011 after).
	HandleWebSocket(msg Message, send WebSocketSender) error
}

// WebSocketMessageLimiter may be implemented by a WebSocketHandler whose app accepts
// smaller messages than the server does: the server then applies the smaller limit
// to the handler's connection, so a larger message closes it with 1009 (too big) as
// soon as a frame announces more, before its bytes are read or buffered. Servers
// that do not know it apply their own limit; the handler still sees every message.
type WebSocketMessageLimiter interface {
	// MaxMessageSize returns the largest message the handler accepts, in bytes
	// (after decompression); zero or a value above the server's limit changes
	// nothing. It is called once, before websocket.connect.
	MaxMessageSize() int
}

// WebSocketSender sends a message on a WebSocket served by a WebSocketHandler.
type WebSocketSender interface {
	// SendNow queues msg for the connection and returns without blocking. Safe for
	// concurrent use; msg and its buffers are not retained after it returns. It fails
	// with ErrDisconnected once the connection is gone and with ErrBackpressure when
	// a websocket.send finds more unsent output queued than the server's high-water
	// mark (the peer does not read fast enough): the app decides whether to drop the
	// message, keep it for later or close the connection. A websocket.close is never
	// refused for backpressure.
	SendNow(msg Message) error
}

// ErrBackpressure is returned by WebSocketSender.SendNow when the connection has too
// much unsent output to take another message without blocking.
var ErrBackpressure = errors.New("asgi: too much unsent output on the connection")

// WebSocketHandlerFor returns app's event handler for scope, or nil when app does not
// implement WebSocketEventer or declines the scope. Routers and mounts use it to pass
// the choice on to the app they dispatch to.
func WebSocketHandlerFor(app App, scope *WebSocketScope) WebSocketHandler {
	if e, ok := app.(WebSocketEventer); ok {
		return e.WebSocketHandler(scope)
	}
	return nil
}
