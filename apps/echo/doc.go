// Package echo is the reference app that answers a request with its own body.
//
// With a Content-Length in the request the response starts at once with the same
// Content-Length and every chunk of the body is sent back as it arrives, so memory stays
// flat whatever the size. Without one (chunked HTTP/1.1, HTTP/2 without the header) the
// length is unknown until the end: the body is collected, up to Config.MaxCollect bytes
// (413 beyond), and sent back in one message with a Content-Length. The response always
// has a Content-Length; its content-type is the request's, or application/octet-stream.
package echo
