package asgi

import (
	"errors"
	"fmt"
)

// ErrDisconnected is returned by Send once the peer has gone away (connection closed,
// stream reset, WebSocket closed). Streaming apps should stop when they see it.
var ErrDisconnected = errors.New("asgi: client disconnected")

// ErrUnsupported is returned by Send for a message the server does not support in
// this scope (for example http.response.pathsend on a server without a file system).
var ErrUnsupported = errors.New("asgi: message not supported by this server")

// ContractError reports an app that broke the ASGI message order or sent an invalid
// message. Its text follows uvicorn's wording so users of both recognise it.
type ContractError struct {
	Msg string
}

func (e *ContractError) Error() string { return e.Msg }

// IsContractError reports whether err is, or wraps, a *ContractError.
func IsContractError(err error) bool {
	var ce *ContractError
	return errors.As(err, &ce)
}

func errExpected(want string, got Message) error {
	return &ContractError{Msg: fmt.Sprintf("Expected ASGI message '%s', but got '%s'.", want, typeOf(got))}
}

func errExpectedOneOf(want []string, got Message) error {
	quoted := ""
	for i, w := range want {
		if i > 0 {
			quoted += " or "
		}
		quoted += "'" + w + "'"
	}
	return &ContractError{Msg: fmt.Sprintf("Expected ASGI message %s, but got '%s'.", quoted, typeOf(got))}
}

func errAfterComplete(got Message) error {
	return &ContractError{Msg: fmt.Sprintf("Unexpected ASGI message '%s' sent, after response already completed.", typeOf(got))}
}

func errInvalid(format string, args ...any) error {
	return &ContractError{Msg: fmt.Sprintf(format, args...)}
}

func typeOf(m Message) string {
	if m == nil {
		return "<nil>"
	}
	return m.Type()
}
