package h1

// Default limits, used when the Config field is zero.
const (
	// DefaultMaxHeadBytes bounds the request head (leading empty lines, request line,
	// fields and the final CRLF): it stops slow header floods from growing memory.
	DefaultMaxHeadBytes = 64 << 10
	// DefaultMaxRequestLine bounds the request line: it stops huge targets.
	DefaultMaxRequestLine = 8 << 10
	// DefaultMaxHeaders bounds the number of header (and trailer) field lines: it stops
	// many-tiny-fields floods that cost per-field work.
	DefaultMaxHeaders = 100
)

const (
	// maxLeadingEmptyLines bounds the empty lines skipped before a request line.
	maxLeadingEmptyLines = 8
	// maxChunkLineBytes bounds one chunk-size line with its extensions (as net/http):
	// it stops endless chunk extensions.
	maxChunkLineBytes = 4096
	// maxChunkOverhead bounds chunk framing bytes not paid for by chunk data (as
	// net/http): it stops floods of tiny chunks with long extensions.
	maxChunkOverhead = 16 << 10
)

// Config holds the parser limits. The zero value means the defaults: each zero or
// negative field is replaced by its default when Parser.Init normalises it.
type Config struct {
	// MaxHeadBytes bounds the request head including the final CRLF, and the trailer
	// section of a chunked body. If zero, 64 KiB is used. Over it: 431.
	MaxHeadBytes int
	// MaxRequestLine bounds the request line without its CRLF. If zero, 8 KiB is used.
	// Over it: 414.
	MaxRequestLine int
	// MaxHeaders bounds the number of header fields, and of trailer fields. If zero,
	// 100 is used. Over it: 431.
	MaxHeaders int
}

// Normalize returns c with every unset (zero or negative) limit replaced by its
// default, the values a Parser initialised with c enforces.
func (c Config) Normalize() Config {
	if c.MaxHeadBytes <= 0 {
		c.MaxHeadBytes = DefaultMaxHeadBytes
	}
	if c.MaxRequestLine <= 0 {
		c.MaxRequestLine = DefaultMaxRequestLine
	}
	if c.MaxHeaders <= 0 {
		c.MaxHeaders = DefaultMaxHeaders
	}
	return c
}
