// Command gorilla is the gorilla/websocket peer: net/http serving hello, and a goroutine per
// WebSocket connection echoing every message on /ws. It is the baseline of the WebSocket
// figures.
package main
