// Package chat is the broadcast chat room reference app: every WebSocket client that
// connects joins one room, and every message a member sends goes to every member
// (the sender included), text as text and binary as binary. HTTP GET serves chat.html,
// a small page that uses the room from a browser.
//
// The room is a hub with a bounded queue per member, drained by that member's own
// writer goroutine: a broadcast never blocks on a member, so one slow member can neither
// stall the others nor grow memory; a member whose queue overflows is disconnected with
// close code 1008. That is how ServeASGI serves a member; where the server supports
// event mode (asgi.WebSocketEventer) a member needs neither the goroutine nor the
// queue: a broadcast is encoded into every member's connection at once, and a member
// whose connection has more unsent output than the server's high-water mark is
// disconnected with 1008 the same way. The demo app serves the room at /chat and the
// page at /chat.html.
package chat
