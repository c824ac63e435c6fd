// Package asgi is the application contract of asgo: an ASGI-style interface in Go terms.
//
// An App is called once per connection-level unit of work (an HTTP request, an HTTP/2
// stream, a WebSocket connection, or the process lifespan) with a typed Scope, a Receive
// function that yields inbound messages and a Send function that takes outbound messages:
//
//	func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error
//
// Messages are typed values whose Type method returns the ASGI message name
// ("http.request", "http.response.start", "websocket.accept", ...). The order in which an
// app may send messages is checked by the state machines in this package
// (HTTPResponseOrder, WebSocketOrder and LifespanOrder, whose states are HTTPSendState,
// WebSocketSendState and LifespanSendState) so every server layer reports contract
// violations with the same wording, e.g.
//
//	Expected ASGI message 'http.response.start', but got 'http.response.body'.
//
// Buffer ownership: byte slices handed to an app (bodies, header values, WebSocket data)
// belong to the app. Byte slices handed by the app to Send are not retained after Send
// returns, unless the message type documents otherwise.
//
// This package imports only the standard library; every other asgo package may import it.
package asgi
