package websocket

import (
	"compress/flate"
	"time"
)

// Defaults applied by Config.Normalize to zero fields.
const (
	DefaultMaxMessageSize       = 16 << 20
	DefaultMaxQueuedMessages    = 32
	DefaultPingInterval         = 20 * time.Second
	DefaultPingTimeout          = 20 * time.Second
	DefaultCloseTimeout         = 5 * time.Second
	DefaultHandshakeTimeout     = 10 * time.Second
	DefaultCompressionThreshold = 256
	DefaultCompressionLevel     = flate.BestSpeed
	DefaultCompressionSlice     = 256 << 10
	DefaultMaxInflateRate       = 32 << 20
	DefaultMaxDeflateRate       = 8 << 20
)

// Config holds the WebSocket limits and options. Its zero value means the documented
// defaults; call Normalize once before use. A Config is read-only after Normalize and
// safe to share between connections.
type Config struct {
	// MaxMessageSize caps the size of one reassembled message, before and after
	// decompression; a larger message closes the connection with 1009. A compression
	// bomb stops at this size. If zero, 16 MiB is used.
	MaxMessageSize int
	// MaxFrameSize caps the payload length of one frame; a larger frame closes the
	// connection with 1009 as soon as its header arrives. If zero, MaxMessageSize is used.
	MaxFrameSize int
	// MaxQueuedMessages is how many received messages may wait for the app per
	// connection; when the queue is full the server stops reading that connection. If
	// zero, 32 is used.
	MaxQueuedMessages int
	// HandshakeTimeout bounds the time the app takes to answer websocket.connect: from
	// the upgrade request until it sends websocket.accept or websocket.close, or
	// completes a denial response. A stuck app's client then gets a 500 (an aborted
	// connection if a denial response had started) and the app's later sends fail.
	// This is the app's budget; the client's, for the request head, is the HTTP header
	// timeout. If zero, 10 s is used (python-websockets' open_timeout, which bounds
	// uvicorn's wait for the app's accept); negative turns it off.
	HandshakeTimeout time.Duration
	// PingInterval is how long the peer may stay silent before the server pings it:
	// any inbound byte (a frame, part of one, or a pong) proves the peer alive and
	// postpones the ping. If zero, 20 s is used; a negative value turns keepalive
	// pings off.
	PingInterval time.Duration
	// PingTimeout is how long the server waits after a ping for the pong, or for any
	// other inbound byte, before closing the connection (1011, as uvicorn and
	// websockets do). If zero, 20 s is used; negative turns it off.
	PingTimeout time.Duration
	// CloseTimeout is how long the server waits for the peer's close frame after sending
	// its own before dropping the connection. If zero, 5 s is used.
	CloseTimeout time.Duration
	// DisableCompression turns permessage-deflate off: offers are ignored.
	DisableCompression bool
	// CompressionLevel is the compress/flate level of outbound messages (1-9). If zero,
	// flate.BestSpeed (1) is used.
	CompressionLevel int
	// CompressionThreshold is the size under which outbound messages are sent
	// uncompressed. If zero, 256 bytes is used; negative compresses every message.
	CompressionThreshold int
	// CompressionSlice bounds the compression work one connection does on the event
	// loop at a time, so that a compression bomb costs its sender and not the loop's
	// other connections: Reader.Feed inflates at most this many bytes per call (then
	// returns EventYield and continues on the next call), the server yields the loop
	// after inflating this much for one connection, and the loop compresses no
	// outbound message larger than this (event mode sends larger ones uncompressed,
	// which RFC 7692 allows per message). If zero, 256 KiB is used.
	CompressionSlice int
	// MaxInflateRate is the inflated bytes per second one connection may average (with
	// a burst of one maximal message plus one second's worth): a client whose
	// compressed messages inflate faster is closed with 1008. It bounds the CPU a
	// client spends of the server's by sending small messages that inflate to large
	// ones (deflate expands up to 1032:1). If zero, 32 MiB/s is used; negative turns
	// the budget off.
	MaxInflateRate int
	// MaxDeflateRate is the message bytes per second the server compresses for one
	// connection on average (with the same burst): beyond it messages are sent
	// uncompressed until the budget recovers, so an app echoing large messages to a
	// client costs the client bandwidth rather than the server CPU (compress/flate's
	// fastest level runs at 60-300 MB/s). If zero, 8 MiB/s is used; negative turns
	// the budget off.
	MaxDeflateRate int
	// ClientContextTakeover lets clients keep their LZ77 window between messages. It
	// costs 32 KiB of history per connection that uses it; by default the server asks
	// for client_no_context_takeover, so idle connections hold no compression state.
	// The server side never takes context over, so its compressors can be pooled.
	ClientContextTakeover bool
	// AllowedOrigins, when not empty, lists the Origin header values (for example
	// "https://example.com") allowed to open a WebSocket; a request with another Origin
	// is refused with 403 (cross-site WebSocket hijacking). Requests without Origin
	// (non-browser clients) are allowed. "*" allows every origin.
	AllowedOrigins []string
}

// Normalize replaces zero fields by their defaults and returns the result.
func (c Config) Normalize() Config {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxFrameSize <= 0 || c.MaxFrameSize > c.MaxMessageSize {
		c.MaxFrameSize = c.MaxMessageSize
	}
	if c.MaxQueuedMessages <= 0 {
		c.MaxQueuedMessages = DefaultMaxQueuedMessages
	}
	c.HandshakeTimeout = durationOr(c.HandshakeTimeout, DefaultHandshakeTimeout)
	c.PingInterval = durationOr(c.PingInterval, DefaultPingInterval)
	c.PingTimeout = durationOr(c.PingTimeout, DefaultPingTimeout)
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.CompressionLevel < flate.BestSpeed || c.CompressionLevel > flate.BestCompression {
		c.CompressionLevel = DefaultCompressionLevel
	}
	if c.CompressionSlice <= 0 {
		c.CompressionSlice = DefaultCompressionSlice
	}
	if c.MaxInflateRate == 0 {
		c.MaxInflateRate = DefaultMaxInflateRate
	}
	if c.MaxDeflateRate == 0 {
		c.MaxDeflateRate = DefaultMaxDeflateRate
	}
	if c.CompressionThreshold == 0 {
		c.CompressionThreshold = DefaultCompressionThreshold
	}
	return c
}

// durationOr maps zero to def and negative values to 0 (off).
func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}
