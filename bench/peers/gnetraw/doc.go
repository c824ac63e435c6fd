// Command gnetraw is the ceiling of asgo's architecture: a bare gnet v2 server that answers
// every request head it sees (counted by its blank line, with no parsing) with a canned
// Hello, World! response, one write per batch of pipelined requests.
package main
