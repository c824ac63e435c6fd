// Package dial opens many client connections to one server quickly: a bounded number of
// dials in flight, and source addresses rotated over 127.0.0.1..127.0.0.N so that tens of
// thousands of connections do not exhaust the ephemeral ports of one source address.
//
// Many is safe for concurrent use; the returned connections belong to the caller.
package dial
