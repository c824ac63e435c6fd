// Package wsecho is the WebSocket echo reference app: it accepts every WebSocket
// connection and sends each message back as it came, text as text and binary as binary,
// until the client closes. HTTP requests get 426 Upgrade Required.
//
// It serves in event mode where the server supports it (asgi.WebSocketEventer: no
// goroutine per connection) and through ServeASGI elsewhere, with the same behaviour.
//
// The demo app serves it at /ws; the conformance tests and the benchmarks use it as the
// peer of every client.
package wsecho
