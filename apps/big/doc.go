// Package big is the reference app for large fixed-length responses: GET /big?bytes=N
// answers 200 with Content-Length N and N bytes of 'x', sent in 64 KiB
// http.response.body messages that all point into one shared read-only buffer, so a
// response of any size costs the app no more than that buffer (allocated once).
//
// JSON is its sibling for compressed responses: GET /json?bytes=N answers a JSON array
// of records of about N bytes (64 KiB by default), the same bytes on every request.
package big
