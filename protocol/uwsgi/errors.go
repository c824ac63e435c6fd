package uwsgi

// Error is a packet the parser refuses. Status is the HTTP status the session answers
// with (a plain HTTP/1.0 response, e.g. h1.AppendError) before it closes the
// connection; after an Error the Parser stays failed. Every error returned by Parse is
// one of the sentinels below.
type Error struct {
	Status int    // 400, 413, 431 or 501
	Reason string // short text without the package prefix
}

// Error returns "uwsgi: " followed by the reason.
func (e *Error) Error() string { return "uwsgi: " + e.Reason }

func newError(status int, reason string) *Error { return &Error{Status: status, Reason: reason} }

// Packet errors.
var (
	// ErrModifier1: the packet's modifier1 is not 0. Other values select other uWSGI
	// plugins (PSGI, Rack, ...) or management requests, none of which asgo serves.
	ErrModifier1 = newError(501, "modifier1 other than 0 (WSGI request) not supported")
	// ErrVarsTooLarge: the datasize of the header is above Config.MaxVarsBytes.
	ErrVarsTooLarge = newError(431, "vars block too large")
	// ErrTooManyVars: more vars than Config.MaxVars.
	ErrTooManyVars = newError(431, "too many vars")
	// ErrMalformedVars: a key or value length runs past the end of the vars block.
	ErrMalformedVars = newError(400, "malformed vars block")
	// ErrInvalidKey: an empty key, or one with bytes other than visible ASCII.
	ErrInvalidKey = newError(400, "invalid var name")
	// ErrInvalidValue: a value holding CR, LF or NUL, which no HTTP field or CGI value
	// carries and which would let a header value split lines downstream.
	ErrInvalidValue = newError(400, "invalid var value")
)

// Request errors.
var (
	// ErrMissingMethod: no REQUEST_METHOD var, or one that is not an RFC 9110 token.
	ErrMissingMethod = newError(400, "missing or invalid REQUEST_METHOD")
	// ErrMissingPath: neither PATH_INFO nor REQUEST_URI, so there is no path to serve.
	ErrMissingPath = newError(400, "missing PATH_INFO and REQUEST_URI")
	// ErrInvalidContentLength: a CONTENT_LENGTH that is not a non-negative decimal
	// that fits in int64.
	ErrInvalidContentLength = newError(400, "invalid CONTENT_LENGTH")
	// ErrConflictingContentLength: CONTENT_LENGTH vars that differ (the body's extent
	// would be ambiguous).
	ErrConflictingContentLength = newError(400, "conflicting CONTENT_LENGTH vars")
	// ErrBodyTooLarge: CONTENT_LENGTH above Config.MaxBodyBytes.
	ErrBodyTooLarge = newError(413, "request body too large")
)
