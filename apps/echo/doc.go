// Package echo is the reference app that answers a request with its own body.
//
// The body is read whole before the response starts, up to Config.MaxCollect bytes
// (413 beyond for a body without Content-Length), and sent back in one message with a
// Content-Length. Answering before the body is read is legal HTTP, but reverse proxies
// such as nginx stop sending the request body once response headers arrive, and the
// exchange stalls. Only a body whose Content-Length exceeds Config.StreamAbove is
// echoed as it arrives: the response starts at once and memory stays flat. The response always
// has a Content-Length; its content-type is the request's, or application/octet-stream.
package echo
