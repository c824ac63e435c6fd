package asgi

import "os"

// Message is one ASGI event. Type returns the ASGI name, e.g. "http.request".
// Apps and servers exchange pointers to the typed structs below (*HTTPRequest, ...).
type Message interface {
	Type() string
}

// ASGI message type names.
const (
	TypeHTTPRequest          = "http.request"
	TypeHTTPDisconnect       = "http.disconnect"
	TypeHTTPResponseStart    = "http.response.start"
	TypeHTTPResponseBody     = "http.response.body"
	TypeHTTPResponseTrailers = "http.response.trailers"
	TypeHTTPResponsePathsend = "http.response.pathsend"
	// TypeHTTPResponseEarlyHint is hypercorn's early-hint extension: a 103 Early Hints
	// informational response carrying Link fields, sent before http.response.start.
	TypeHTTPResponseEarlyHint = "http.response.early_hint"

	TypeWebSocketConnect           = "websocket.connect"
	TypeWebSocketAccept            = "websocket.accept"
	TypeWebSocketReceive           = "websocket.receive"
	TypeWebSocketSend              = "websocket.send"
	TypeWebSocketDisconnect        = "websocket.disconnect"
	TypeWebSocketClose             = "websocket.close"
	TypeWebSocketHTTPResponseStart = "websocket.http.response.start"
	TypeWebSocketHTTPResponseBody  = "websocket.http.response.body"

	TypeLifespanStartup          = "lifespan.startup"
	TypeLifespanStartupComplete  = "lifespan.startup.complete"
	TypeLifespanStartupFailed    = "lifespan.startup.failed"
	TypeLifespanShutdown         = "lifespan.shutdown"
	TypeLifespanShutdownComplete = "lifespan.shutdown.complete"
	TypeLifespanShutdownFailed   = "lifespan.shutdown.failed"
)

// HTTPRequest carries (part of) the request body, server to app.
type HTTPRequest struct {
	Body     []byte
	MoreBody bool
}

// HTTPDisconnect tells the app the client is gone or the response is complete.
type HTTPDisconnect struct{}

// HTTPResponseStart starts the response, app to server. Headers must not contain CR,
// LF or NUL; a response with invalid headers is refused with a 500.
// Trailers announces that an HTTPResponseTrailers message will follow the body.
type HTTPResponseStart struct {
	Status   int
	Headers  Headers
	Trailers bool
}

// HTTPResponseBody carries (part of) the response body, app to server. MoreBody false
// ends the response (unless trailers were announced).
type HTTPResponseBody struct {
	Body     []byte
	MoreBody bool
}

// HTTPResponseTrailers carries trailing headers after the body, when
// HTTPResponseStart.Trailers was set. MoreTrailers false ends the response.
type HTTPResponseTrailers struct {
	Headers      Headers
	MoreTrailers bool
}

// HTTPResponsePathsend asks the server to send the file at Path (absolute) as the whole
// body. The server reads the file itself; the app does not copy it.
//
// File, Offset and Length are asgo's additions; other servers' apps leave them zero.
// File, if not nil, is the file at Path already opened for reading by the app, which
// the server sends from instead of opening Path again. Ownership: from the call to
// send on, File belongs to the server, which closes it once the body is out (the file
// may be sent after send returns, e.g. with sendfile while the client reads), whether
// send succeeds or fails; the app must not use or close it afterwards. Middleware
// that answers a pathsend itself instead of passing it on must close File.
// Offset and Length select the part of the file that is the body: Length bytes from
// Offset (a single range); Length 0 means up to the end of the file.
type HTTPResponsePathsend struct {
	Path   string
	File   *os.File
	Offset int64
	Length int64
}

// HTTPResponseEarlyHint sends a 103 Early Hints informational response with one Link
// field per entry of Links (for example "</app.css>; rel=preload; as=style"), app to
// server (the http.response.early_hint extension, as hypercorn offers it). It may be
// sent any number of times before HTTPResponseStart, never after. A server that does
// not advertise the extension in the scope, or a request that cannot carry an
// informational response (HTTP/1.0), drops it silently: hints are optional by nature.
// Links are not retained after send returns.
type HTTPResponseEarlyHint struct {
	Links [][]byte
}

// WebSocketConnect is the first message of a WebSocket scope, server to app.
type WebSocketConnect struct{}

// WebSocketAccept accepts the handshake, app to server. Subprotocol, if not empty,
// must be one the client offered. Headers are added to the 101 response.
type WebSocketAccept struct {
	Subprotocol string
	Headers     Headers
}

// WebSocketReceive is one complete message from the client. Text messages are valid
// UTF-8. Data belongs to the app.
type WebSocketReceive struct {
	Data []byte
	Text bool
}

// WebSocketSend sends one message to the client, app to server. When Text is set, Data
// must be valid UTF-8.
type WebSocketSend struct {
	Data []byte
	Text bool
}

// WebSocketDisconnect tells the app the connection is closed, with the peer's close code
// (1005 when it sent none, 1006 when the connection dropped).
type WebSocketDisconnect struct {
	Code   int
	Reason string
}

// WebSocketClose closes the connection (or denies the handshake with 403 when sent
// before WebSocketAccept), app to server. Code 0 means 1000.
type WebSocketClose struct {
	Code   int
	Reason string
}

// WebSocketHTTPResponseStart denies the handshake with the app's own HTTP response
// (websocket.http.response extension), app to server, before WebSocketAccept.
type WebSocketHTTPResponseStart struct {
	Status  int
	Headers Headers
}

// WebSocketHTTPResponseBody carries the body of a denial response.
type WebSocketHTTPResponseBody struct {
	Body     []byte
	MoreBody bool
}

// LifespanStartup asks the app to start up, server to app.
type LifespanStartup struct{}

// LifespanStartupComplete reports a successful startup, app to server.
type LifespanStartupComplete struct{}

// LifespanStartupFailed reports a failed startup; the server exits with Message.
type LifespanStartupFailed struct{ Message string }

// LifespanShutdown asks the app to shut down, server to app.
type LifespanShutdown struct{}

// LifespanShutdownComplete reports a clean shutdown, app to server.
type LifespanShutdownComplete struct{}

// LifespanShutdownFailed reports a failed shutdown, app to server.
type LifespanShutdownFailed struct{ Message string }

func (*HTTPRequest) Type() string                { return TypeHTTPRequest }
func (*HTTPDisconnect) Type() string             { return TypeHTTPDisconnect }
func (*HTTPResponseStart) Type() string          { return TypeHTTPResponseStart }
func (*HTTPResponseBody) Type() string           { return TypeHTTPResponseBody }
func (*HTTPResponseTrailers) Type() string       { return TypeHTTPResponseTrailers }
func (*HTTPResponsePathsend) Type() string       { return TypeHTTPResponsePathsend }
func (*HTTPResponseEarlyHint) Type() string      { return TypeHTTPResponseEarlyHint }
func (*WebSocketConnect) Type() string           { return TypeWebSocketConnect }
func (*WebSocketAccept) Type() string            { return TypeWebSocketAccept }
func (*WebSocketReceive) Type() string           { return TypeWebSocketReceive }
func (*WebSocketSend) Type() string              { return TypeWebSocketSend }
func (*WebSocketDisconnect) Type() string        { return TypeWebSocketDisconnect }
func (*WebSocketClose) Type() string             { return TypeWebSocketClose }
func (*WebSocketHTTPResponseStart) Type() string { return TypeWebSocketHTTPResponseStart }
func (*WebSocketHTTPResponseBody) Type() string  { return TypeWebSocketHTTPResponseBody }
func (*LifespanStartup) Type() string            { return TypeLifespanStartup }
func (*LifespanStartupComplete) Type() string    { return TypeLifespanStartupComplete }
func (*LifespanStartupFailed) Type() string      { return TypeLifespanStartupFailed }
func (*LifespanShutdown) Type() string           { return TypeLifespanShutdown }
func (*LifespanShutdownComplete) Type() string   { return TypeLifespanShutdownComplete }
func (*LifespanShutdownFailed) Type() string     { return TypeLifespanShutdownFailed }
