// Package peer holds what every Go peer server in bench/peers shares: its command-line
// flags, the routes it serves and the canned Hello, World! body, so that every peer answers
// the same requests the same way as asgo's demo app.
package peer
