package h1

import "errors"

// Error is a request the parser refuses. Status is the HTTP status the event loop
// answers with (AppendError) before it closes the connection; after an Error the Parser
// stays failed. Every parse error returned by Parse is one of the sentinels below.
type Error struct {
	Status int    // 400, 414, 431, 501 or 505
	Reason string // short text without the package prefix
}

// Error returns "h1: " followed by the reason.
func (e *Error) Error() string { return "h1: " + e.Reason }

func newError(status int, reason string) *Error { return &Error{Status: status, Reason: reason} }

// Request-line errors.
var (
	// ErrInvalidRequestLine: the request line is not "method SP target SP version".
	ErrInvalidRequestLine = newError(400, "invalid request line")
	// ErrInvalidMethod: the method is not an RFC 9110 token.
	ErrInvalidMethod = newError(400, "invalid method")
	// ErrInvalidTarget: the request-target is empty, holds a space, a control byte or a
	// byte above 0x7f, or has a form not allowed for the method (or a bad absolute-form
	// authority).
	ErrInvalidTarget = newError(400, "invalid request target")
	// ErrInvalidVersion: the version is not of the form HTTP/DIGIT.DIGIT (the name is
	// case-sensitive).
	ErrInvalidVersion = newError(400, "invalid HTTP version")
	// ErrVersionNotSupported: a well-formed version whose major version is not 1
	// (HTTP/1.2 and other higher minor versions are served as HTTP/1.1).
	ErrVersionNotSupported = newError(505, "HTTP version not supported")
	// ErrRequestLineTooLong: the request line is longer than Config.MaxRequestLine.
	ErrRequestLineTooLong = newError(414, "request line too long")
	// ErrTooManyEmptyLines: too many empty lines came before the request line.
	ErrTooManyEmptyLines = newError(400, "too many empty lines before request line")
)

// Head and field errors.
var (
	// ErrHeadTooLarge: the request head is larger than Config.MaxHeadBytes.
	ErrHeadTooLarge = newError(431, "request head too large")
	// ErrTooManyHeaders: more header fields than Config.MaxHeaders.
	ErrTooManyHeaders = newError(431, "too many header fields")
	// ErrBareCR: a CR not followed by LF inside the head or a trailer line.
	ErrBareCR = newError(400, "bare CR in request head")
	// ErrObsFold: a field line starts with SP or HTAB (obsolete line folding).
	ErrObsFold = newError(400, "obsolete line folding")
	// ErrInvalidHeaderName: a field name is empty, not a token, or has no colon.
	ErrInvalidHeaderName = newError(400, "invalid header field name")
	// ErrSpaceBeforeColon: whitespace between a field name and its colon.
	ErrSpaceBeforeColon = newError(400, "whitespace before colon in header field")
	// ErrInvalidHeaderValue: a field value holds a control byte other than HTAB.
	ErrInvalidHeaderValue = newError(400, "invalid header field value")
	// ErrMissingHost: an HTTP/1.1 request without a Host field.
	ErrMissingHost = newError(400, "missing Host header")
	// ErrMultipleHost: more than one Host field.
	ErrMultipleHost = newError(400, "more than one Host header")
	// ErrInvalidHost: a Host value that is not a valid authority.
	ErrInvalidHost = newError(400, "invalid Host header")
)

// Framing errors.
var (
	// ErrInvalidContentLength: a Content-Length that is not a non-negative decimal
	// that fits in int64.
	ErrInvalidContentLength = newError(400, "invalid Content-Length")
	// ErrConflictingContentLength: Content-Length values that differ.
	ErrConflictingContentLength = newError(400, "conflicting Content-Length values")
	// ErrContentLengthWithTE: both Content-Length and Transfer-Encoding (a request
	// smuggling signature).
	ErrContentLengthWithTE = newError(400, "both Content-Length and Transfer-Encoding")
	// ErrChunkedNotFinal: Transfer-Encoding whose final coding is not chunked, or that
	// applies chunked more than once.
	ErrChunkedNotFinal = newError(400, "chunked is not the final transfer coding")
	// ErrUnsupportedTransferEncoding: a transfer coding other than chunked (we decode
	// none).
	ErrUnsupportedTransferEncoding = newError(501, "unsupported transfer coding")
	// ErrTransferEncodingHTTP10: Transfer-Encoding in an HTTP/1.0 request.
	ErrTransferEncodingHTTP10 = newError(400, "Transfer-Encoding in HTTP/1.0 request")
)

// Chunked body errors.
var (
	// ErrInvalidChunkSize: a chunk-size that is not 1*HEXDIG.
	ErrInvalidChunkSize = newError(400, "invalid chunk size")
	// ErrChunkSizeOverflow: a chunk-size that does not fit in int64.
	ErrChunkSizeOverflow = newError(400, "chunk size overflow")
	// ErrInvalidChunkExtension: chunk extensions that do not follow RFC 9112 7.1.1.
	ErrInvalidChunkExtension = newError(400, "invalid chunk extension")
	// ErrChunkLineTooLong: a chunk-size line longer than 4 KiB.
	ErrChunkLineTooLong = newError(400, "chunk line too long")
	// ErrChunkOverhead: too many framing bytes for the chunk data they carry.
	ErrChunkOverhead = newError(400, "too much chunk framing")
	// ErrMissingChunkCRLF: chunk data not followed by CRLF.
	ErrMissingChunkCRLF = newError(400, "missing CRLF after chunk data")
	// ErrBareLFInChunked: a line in the chunked body ended by LF without CR.
	ErrBareLFInChunked = newError(400, "bare LF in chunked body")
	// ErrTrailersTooLarge: a trailer section larger than Config.MaxHeadBytes.
	ErrTrailersTooLarge = newError(431, "trailer section too large")
	// ErrTooManyTrailers: more trailer fields than Config.MaxHeaders.
	ErrTooManyTrailers = newError(431, "too many trailer fields")
)

// Response errors, returned by Response methods. After any of them the event loop
// aborts the connection (or answers 500 if the head was not written yet).
var (
	// ErrResponseNotBegun: AppendBody or AppendTrailers before Begin.
	ErrResponseNotBegun = errors.New("h1: response not begun")
	// ErrResponseComplete: body or trailers appended after the response ended.
	ErrResponseComplete = errors.New("h1: response already complete")
	// ErrResponseStatus: a status outside 100-999.
	ErrResponseStatus = errors.New("h1: invalid response status")
	// ErrResponseHeader: a response or trailer field with an invalid name or a value
	// holding CR, LF or NUL (response splitting).
	ErrResponseHeader = errors.New("h1: invalid response header field")
	// ErrResponseContentLength: an app Content-Length that is not a decimal, or
	// several that differ.
	ErrResponseContentLength = errors.New("h1: invalid response Content-Length")
	// ErrResponseTransferEncoding: an app Transfer-Encoding other than chunked (the
	// server owns framing and applies no other coding).
	ErrResponseTransferEncoding = errors.New("h1: unsupported response Transfer-Encoding")
	// ErrBodyTooLong: more body bytes than the declared Content-Length.
	ErrBodyTooLong = errors.New("h1: response body longer than Content-Length")
	// ErrBodyTooShort: the body ended before the declared Content-Length.
	ErrBodyTooShort = errors.New("h1: response body shorter than Content-Length")
	// ErrTrailersNotExpected: trailers when Begin did not announce them, or before the
	// last body.
	ErrTrailersNotExpected = errors.New("h1: response trailers not expected")
)
