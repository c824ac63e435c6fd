// Package headerlist owns the parsing of comma-separated header field values shared by
// the wire packages (RFC 9110 section 5.6.1 #element lists: Connection, Upgrade,
// Transfer-Encoding, Content-Length, Sec-WebSocket-Protocol) and the trimming of
// optional whitespace (OWS: SP and HTAB) around field values and list elements.
//
// It works on bytes already validated as a field value (protocol/h1 rejects CR, LF, NUL
// and other control bytes), does no I/O, never allocates, and is safe for concurrent
// use. Returned slices alias the input.
package headerlist
