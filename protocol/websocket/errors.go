package websocket

import "strconv"

// Close codes used by this package (RFC 6455 section 7.4.1).
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseNoStatus        = 1005
	CloseAbnormal        = 1006
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
	CloseInternalError   = 1011
)

// CloseError is a protocol failure detected in the peer's input. Code is the close code
// to send before closing the connection (1002 protocol error, 1007 invalid UTF-8, 1009
// message too big); Reason is a short text for the close frame and the logs.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return "websocket: close " + strconv.Itoa(e.Code) + ": " + e.Reason
}

func protocolError(reason string) *CloseError {
	return &CloseError{Code: CloseProtocolError, Reason: reason}
}

// Sentinel close errors. They are returned by the Reader as is: compare with errors.Is or
// read Code with errors.As.
var (
	// ErrInvalidUTF8 is returned when a text message or a part of it is not UTF-8.
	ErrInvalidUTF8 = &CloseError{Code: CloseInvalidPayload, Reason: "invalid UTF-8 in text message"}
	// ErrMessageTooBig is returned when a message, a frame or a decompressed message
	// exceeds the configured limit.
	ErrMessageTooBig = &CloseError{Code: CloseMessageTooBig, Reason: "message too big"}
	// ErrBadCloseFrame is returned for a close frame with a 1-byte payload, an invalid
	// code or a reason that is not UTF-8.
	ErrBadCloseFrame = protocolError("invalid close frame payload")
	// ErrBadLength is returned for a 64-bit frame length with the most significant bit set.
	ErrBadLength = protocolError("invalid frame length")
	// ErrBadCompression is returned for compressed data that does not inflate.
	ErrBadCompression = &CloseError{Code: CloseInvalidPayload, Reason: "invalid compressed data"}
	// ErrUnexpectedRsv is returned for reserved bits that no negotiated extension defines.
	ErrUnexpectedRsv = protocolError("unexpected reserved bits")
)
