// Package wsecho is the WebSocket echo reference app: it accepts every WebSocket
// connection and sends each message back as it came, text as text and binary as binary,
// until the client closes. HTTP requests get 426 Upgrade Required.
//
// The demo app serves it at /ws; the conformance tests and the benchmarks use it as the
// peer of every client.
package wsecho
