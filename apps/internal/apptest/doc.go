// Package apptest holds the test helpers shared by the tests of asgo's app packages
// (apps/nethttp, apps/wsgi, ...): a log buffer safe for concurrent use, the HTTP
// versions every adapter scenario runs under, a call of an app on a scripted scope
// that fails the test on any ASGI contract violation, and a client request whose body
// is read whole (Fetch).
//
// It is imported only by _test.go files. Like every package under apps it imports only
// protocol/asgi (with its asgitest) and the standard library, so tests that need a real
// server still start eventloop themselves.
package apptest
