package h2

import (
	"errors"

	"golang.org/x/net/http2"
)

// ErrCode is an HTTP/2 error code (RFC 9113 section 7), as in x/net/http2.
type ErrCode = http2.ErrCode

// HTTP/2 error codes used by this package and its host.
const (
	ErrCodeNo                 = http2.ErrCodeNo
	ErrCodeProtocol           = http2.ErrCodeProtocol
	ErrCodeInternal           = http2.ErrCodeInternal
	ErrCodeFlowControl        = http2.ErrCodeFlowControl
	ErrCodeSettingsTimeout    = http2.ErrCodeSettingsTimeout
	ErrCodeStreamClosed       = http2.ErrCodeStreamClosed
	ErrCodeFrameSize          = http2.ErrCodeFrameSize
	ErrCodeRefusedStream      = http2.ErrCodeRefusedStream
	ErrCodeCancel             = http2.ErrCodeCancel
	ErrCodeCompression        = http2.ErrCodeCompression
	ErrCodeEnhanceYourCalm    = http2.ErrCodeEnhanceYourCalm
	ErrCodeHTTP11Required     = http2.ErrCodeHTTP11Required
	ErrCodeInadequateSecurity = http2.ErrCodeInadequateSecurity
)

// ConnError is a connection error: the whole connection ends with a GOAWAY carrying
// Code. Feed returns it after appending the GOAWAY to its output; the host writes the
// output and closes the connection.
type ConnError struct {
	Code   ErrCode
	Reason string
}

func (e *ConnError) Error() string {
	return "h2: connection error " + e.Code.String() + ": " + e.Reason
}

// StreamError is a stream error: only stream StreamID ends, with RST_STREAM carrying
// Code. The connection and its other streams go on. It is reported to the host through
// Handler.OnReset, never returned by Feed.
type StreamError struct {
	StreamID uint32
	Code     ErrCode
	Reason   string
}

func (e *StreamError) Error() string { return "h2: stream error " + e.Code.String() + ": " + e.Reason }

// ErrStreamClosed is returned by the response methods when the stream is gone: reset
// by either side, or already complete. The host maps it to asgi.ErrDisconnected.
var ErrStreamClosed = errors.New("h2: stream closed")

// ErrConnClosed is returned by the response methods and Feed once the connection has
// ended with a connection error or after the final GOAWAY.
var ErrConnClosed = errors.New("h2: connection closed")

// ErrBadPreface is returned by Feed when the connection does not start with the HTTP/2
// client connection preface (RFC 9113 3.4).
var ErrBadPreface = &ConnError{Code: ErrCodeProtocol, Reason: "invalid connection preface"}

func connErr(code ErrCode, reason string) *ConnError { return &ConnError{Code: code, Reason: reason} }
