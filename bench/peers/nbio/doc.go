// Command nbio is the lesismal/nbio peer: nbhttp serving hello and POST echo, and nbio's
// websocket package echoing on /ws, all on nbio's non-blocking pollers.
package main
