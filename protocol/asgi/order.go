package asgi

// HTTPSendState is where an HTTP response is in the ASGI send order.
type HTTPSendState uint8

// States of an HTTP response, in order.
const (
	HTTPAwaitingStart    HTTPSendState = iota // nothing sent yet
	HTTPSendingBody                           // start sent; body (or pathsend) expected
	HTTPSendingTrailers                       // body done; trailers announced and expected
	HTTPResponseComplete                      // the response is complete
)

func (s HTTPSendState) String() string {
	switch s {
	case HTTPAwaitingStart:
		return "awaiting-start"
	case HTTPSendingBody:
		return "sending-body"
	case HTTPSendingTrailers:
		return "sending-trailers"
	case HTTPResponseComplete:
		return "complete"
	}
	return "invalid"
}

// HTTPResponseOrder checks the order of the messages an app sends for one HTTP
// response and validates each message. The zero value expects http.response.start.
// It is not safe for concurrent use; servers call it under their per-stream lock.
type HTTPResponseOrder struct {
	State    HTTPSendState
	trailers bool
}

// Started reports whether http.response.start has been accepted.
func (o *HTTPResponseOrder) Started() bool { return o.State != HTTPAwaitingStart }

// Check validates msg against the current state and advances it. On error the state is
// unchanged and the server applies its failure policy.
func (o *HTTPResponseOrder) Check(msg Message) error {
	switch o.State {
	case HTTPAwaitingStart:
		if hint, ok := msg.(*HTTPResponseEarlyHint); ok {
			return validateLinks(hint.Links) // the state stays: the start still follows
		}
		start, ok := msg.(*HTTPResponseStart)
		if !ok {
			return errExpected(TypeHTTPResponseStart, msg)
		}
		if err := ValidateStatus(start.Status); err != nil {
			return err
		}
		if err := ValidateHeaders(start.Headers); err != nil {
			return err
		}
		o.trailers = start.Trailers
		o.State = HTTPSendingBody
	case HTTPSendingBody:
		switch m := msg.(type) {
		case *HTTPResponseBody:
			if !m.MoreBody {
				o.State = o.afterBody()
			}
		case *HTTPResponsePathsend:
			if m.Path == "" || m.Path[0] != '/' {
				return errInvalid("ASGI 'http.response.pathsend' needs an absolute path, got %q.", m.Path)
			}
			if m.Offset < 0 || m.Length < 0 {
				return errInvalid("ASGI 'http.response.pathsend' needs a non-negative offset and length, got %d and %d.", m.Offset, m.Length)
			}
			o.State = o.afterBody()
		default:
			return errExpected(TypeHTTPResponseBody, msg)
		}
	case HTTPSendingTrailers:
		m, ok := msg.(*HTTPResponseTrailers)
		if !ok {
			return errExpected(TypeHTTPResponseTrailers, msg)
		}
		if err := ValidateHeaders(m.Headers); err != nil {
			return err
		}
		if !m.MoreTrailers {
			o.State = HTTPResponseComplete
		}
	default:
		return errAfterComplete(msg)
	}
	return nil
}

func (o *HTTPResponseOrder) afterBody() HTTPSendState {
	if o.trailers {
		return HTTPSendingTrailers
	}
	return HTTPResponseComplete
}

// validateLinks refuses early-hint links that could not be sent as a Link field value
// (CR, LF, NUL, other control bytes) and an empty list.
func validateLinks(links [][]byte) error {
	if len(links) == 0 {
		return errInvalid("ASGI 'http.response.early_hint' needs at least one link.")
	}
	for _, l := range links {
		if len(l) == 0 || !ValidHeaderValue(l) {
			return errInvalid("Invalid link %q in 'http.response.early_hint'.", l)
		}
	}
	return nil
}

// ValidateStatus accepts status codes 100-599 except 101, which only the WebSocket
// layer may send.
func ValidateStatus(status int) error {
	if status < 100 || status > 599 || status == 101 {
		return errInvalid("Invalid HTTP status code '%d' in response.", status)
	}
	return nil
}

// ValidateHeaders refuses header names that are not tokens and values holding CR, LF,
// NUL or other control bytes, so an app can never split a response.
func ValidateHeaders(h Headers) error {
	for i := range h {
		if !ValidHeaderName(h[i].Name) {
			return errInvalid("Invalid HTTP header name %q.", h[i].Name)
		}
		if !ValidHeaderValue(h[i].Value) {
			return errInvalid("Invalid HTTP header value %q for header %q.", h[i].Value, h[i].Name)
		}
	}
	return nil
}

// WebSocketSendState is where a WebSocket connection is in the ASGI send order.
type WebSocketSendState uint8

// States of a WebSocket connection as seen from the app's sends.
const (
	WebSocketHandshake WebSocketSendState = iota // connect received; accept/close/denial expected
	WebSocketConnected                           // accepted; send or close expected
	WebSocketDenying                             // denial response started; body expected
	WebSocketClosed                              // closed or denied: nothing more may be sent
)

func (s WebSocketSendState) String() string {
	switch s {
	case WebSocketHandshake:
		return "handshake"
	case WebSocketConnected:
		return "connected"
	case WebSocketDenying:
		return "denying"
	case WebSocketClosed:
		return "closed"
	}
	return "invalid"
}

// WebSocketOrder checks the order of the messages an app sends on a WebSocket scope.
// The zero value is in the handshake state. Not safe for concurrent use.
type WebSocketOrder struct {
	State WebSocketSendState
}

// Check validates msg against the current state and advances it.
func (o *WebSocketOrder) Check(msg Message) error {
	switch o.State {
	case WebSocketHandshake:
		switch m := msg.(type) {
		case *WebSocketAccept:
			if err := ValidateHeaders(m.Headers); err != nil {
				return err
			}
			o.State = WebSocketConnected
		case *WebSocketClose:
			o.State = WebSocketClosed
		case *WebSocketHTTPResponseStart:
			if err := ValidateStatus(m.Status); err != nil {
				return err
			}
			if err := ValidateHeaders(m.Headers); err != nil {
				return err
			}
			o.State = WebSocketDenying
		default:
			return errExpectedOneOf([]string{TypeWebSocketAccept, TypeWebSocketClose, TypeWebSocketHTTPResponseStart}, msg)
		}
	case WebSocketConnected:
		switch m := msg.(type) {
		case *WebSocketSend:
		case *WebSocketClose:
			if m.Code != 0 && !ValidCloseCode(m.Code) {
				return errInvalid("Invalid WebSocket close code %d.", m.Code)
			}
			o.State = WebSocketClosed
		default:
			return errExpectedOneOf([]string{TypeWebSocketSend, TypeWebSocketClose}, msg)
		}
	case WebSocketDenying:
		m, ok := msg.(*WebSocketHTTPResponseBody)
		if !ok {
			return errExpected(TypeWebSocketHTTPResponseBody, msg)
		}
		if !m.MoreBody {
			o.State = WebSocketClosed
		}
	default:
		return errInvalid("Unexpected ASGI message '%s', after sending 'websocket.close' or response already completed.", typeOf(msg))
	}
	return nil
}

// ValidCloseCode reports whether an app may send code in a close frame (RFC 6455 7.4):
// 1000-1003, 1007-1014 and 3000-4999.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
