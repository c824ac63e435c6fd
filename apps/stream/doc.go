// Package stream is the reference app for streamed responses without a Content-Length:
// GET /stream?n=K&delay=MS answers 200 with the K lines "chunk 0\n" ... "chunk K-1\n",
// each in its own http.response.body message, MS milliseconds apart, then a final empty
// message. HTTP/1.1 servers send it chunked, HTTP/2 as DATA frames.
//
// It stops as soon as send fails (the client is gone) and wakes from its sleeps when
// ctx is cancelled.
package stream
