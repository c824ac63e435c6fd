// Package nethttpdemo is the net/http side of asgo's demo app: a ServeMux with a hello
// route, a streaming route and an http.FileServer over a small embedded directory,
// meant to be served through package apps/nethttp (mounted at /nethttp by the demo).
// The tests of apps/nethttp also use it to compare asgo with net/http's own server.
package nethttpdemo
