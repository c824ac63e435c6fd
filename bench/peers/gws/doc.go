// Command gws is the lxzan/gws peer: net/http serving hello, and gws echoing every WebSocket
// message on /ws from its read loop.
package main
