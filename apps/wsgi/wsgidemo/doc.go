// Package wsgidemo is the WSGI-style side of asgo's demo app: a handler with a hello, an
// environ dump and a streaming echo, meant to be served through package apps/wsgi
// (mounted at /wsgi by the demo).
package wsgidemo
