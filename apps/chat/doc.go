// Package chat is the broadcast chat reference app: every WebSocket client that
// connects joins a room (/chat?room=NAME, DefaultRoom without), and every message a
// member sends goes to every member of that room (the sender included), text as text
// and binary as binary. HTTP GET serves chat.html, a small page that uses the room
// from a browser and names the instance that served it.
//
// Rooms are groups of a channel layer (package channels; Config.Layer): with the
// in-memory layer a room is this process's; with the Redis layer (channels/redis) the
// members of one room may be connected to any instance, and a message reaches them
// all. Either way a message is delivered to this instance's members as one shared
// channels.Delivery.
//
// A member served through ServeASGI has a bounded queue, drained by its own writer
// goroutine: a broadcast never blocks on a member, so one slow member can neither
// stall the others nor grow memory; a member whose queue overflows is disconnected
// with close code 1008. Where the server supports event mode (asgi.WebSocketEventer) a
// member needs neither the goroutine nor the queue: a broadcast is encoded once per
// instance and queued to every member's connection by reference, and a member whose
// connection has more unsent output than the server's high-water mark is disconnected
// with 1008 the same way. The demo app serves the rooms at /chat and the page at
// /chat.html, on the server's layer (channels.Default).
package chat
