package h2

import "time"

// Config holds the limits of one HTTP/2 connection. The zero value of every field means
// the documented default; Normalize fills them in once.
type Config struct {
	// MaxConcurrentStreams is advertised in SETTINGS_MAX_CONCURRENT_STREAMS. It also
	// bounds the streams whose application is still running after the stream closed
	// (server-provoked resets), so one connection never runs more handlers than this.
	// New streams beyond it are refused with REFUSED_STREAM. If zero, 100 is used.
	MaxConcurrentStreams uint32
	// MaxFrameSize is the largest frame payload accepted (SETTINGS_MAX_FRAME_SIZE);
	// larger frames are a FRAME_SIZE_ERROR. If zero, 16 KiB is used. Range 16 KiB-16 MiB.
	MaxFrameSize uint32
	// StreamWindow is the receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE):
	// the most request-body bytes buffered per stream before the application consumes
	// them. If zero, 256 KiB is used; values below 65535 are raised to 65535.
	StreamWindow uint32
	// ConnWindow is the receive window of the connection: the most request-body bytes
	// buffered per connection across streams. If zero, 1 MiB is used; values below
	// 65535 are raised to 65535.
	ConnWindow uint32
	// MaxHeaderListSize bounds the decoded size of a header list (RFC 9113 6.5.2,
	// SETTINGS_MAX_HEADER_LIST_SIZE); larger requests get 431. It also bounds the wire
	// size of a HEADERS+CONTINUATION sequence (twice this plus one frame) before the
	// connection is closed. If zero, 64 KiB is used.
	MaxHeaderListSize uint32
	// HeaderTableSize is the HPACK dynamic table size the decoder allows
	// (SETTINGS_HEADER_TABLE_SIZE). If zero, 4096 is used.
	HeaderTableSize uint32
	// MaxResets is the reset budget: streams cancelled by the peer (Rapid Reset) plus
	// streams the server had to reset because of the peer (MadeYouReset, refused
	// streams, 431). Each response completed normally earns one back, up to the budget.
	// When spent, the connection ends with GOAWAY ENHANCE_YOUR_CALM. If zero, 200.
	MaxResets int
	// MaxControlFrames is the control-frame budget per ControlWindow: PING, SETTINGS,
	// PRIORITY, RST_STREAM on closed streams, unknown frames and empty DATA frames.
	// Beyond it the connection ends with GOAWAY ENHANCE_YOUR_CALM. If zero, 1000.
	MaxControlFrames int
	// ControlWindow is the period over which MaxControlFrames is counted. If zero, 1s.
	ControlWindow time.Duration
	// DisableExtendedConnect stops advertising SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC
	// 8441, WebSocket over HTTP/2); a request with :protocol is then malformed. By
	// default the setting is sent and extended CONNECT requests reach the Handler
	// with Request.Protocol set.
	DisableExtendedConnect bool
}

// Defaults of Config, used for zero fields.
const (
	DefaultMaxConcurrentStreams = 100
	DefaultMaxFrameSize         = 16 << 10
	DefaultStreamWindow         = 256 << 10
	DefaultConnWindow           = 1 << 20
	DefaultMaxHeaderListSize    = 64 << 10
	DefaultHeaderTableSize      = 4096
	DefaultMaxResets            = 200
	DefaultMaxControlFrames     = 1000
	DefaultControlWindow        = time.Second

	minFrameSize    = 16 << 10
	maxFrameSize    = 1<<24 - 1
	initialWindow   = 65535
	maxWindow       = 1<<31 - 1
	frameHeaderSize = 9
)

// Normalize returns c with every zero field set to its default and every field clamped
// into its legal range.
func (c Config) Normalize() Config {
	c.MaxConcurrentStreams = orU32(c.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	c.MaxFrameSize = min(max(orU32(c.MaxFrameSize, DefaultMaxFrameSize), minFrameSize), maxFrameSize)
	c.StreamWindow = min(max(orU32(c.StreamWindow, DefaultStreamWindow), initialWindow), maxWindow)
	c.ConnWindow = min(max(orU32(c.ConnWindow, DefaultConnWindow), initialWindow), maxWindow)
	c.MaxHeaderListSize = orU32(c.MaxHeaderListSize, DefaultMaxHeaderListSize)
	c.HeaderTableSize = orU32(c.HeaderTableSize, DefaultHeaderTableSize)
	if c.MaxResets <= 0 {
		c.MaxResets = DefaultMaxResets
	}
	if c.MaxControlFrames <= 0 {
		c.MaxControlFrames = DefaultMaxControlFrames
	}
	if c.ControlWindow <= 0 {
		c.ControlWindow = DefaultControlWindow
	}
	return c
}

// maxHeaderBlock is the most wire bytes of one HEADERS+CONTINUATION sequence accepted
// before the connection is closed (CONTINUATION flood).
func (c *Config) maxHeaderBlock() int {
	return 2*int(c.MaxHeaderListSize) + int(c.MaxFrameSize) + 2*frameHeaderSize
}

func orU32(v, def uint32) uint32 {
	if v == 0 {
		return def
	}
	return v
}
