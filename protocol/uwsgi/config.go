package uwsgi

// Default limits, used when the Config field is zero.
const (
	// DefaultMaxVarsBytes bounds the vars block. The uwsgi header stores its size in 16
	// bits, so 65535 is also the largest value allowed: nginx refuses to send more
	// ("uwsgi request is too big").
	DefaultMaxVarsBytes = 1<<16 - 1
	// DefaultMaxVars bounds the number of vars in one packet: it stops floods of tiny
	// vars that cost per-var work. nginx sends about 15 from uwsgi_params plus one per
	// request header, so this leaves room for the 100 header fields HTTP/1.1 allows.
	DefaultMaxVars = 200
)

// Config holds the parser limits. The zero value means the defaults: each zero or
// negative field is replaced by its default when Parser.Init normalises it.
type Config struct {
	// MaxVarsBytes bounds the datasize of the packet header (the vars block). If zero,
	// or above 65535, 65535 is used. Over it: 431.
	MaxVarsBytes int
	// MaxVars bounds the number of vars in one packet. If zero, 200 is used. Over it: 431.
	MaxVars int
	// MaxBodyBytes bounds CONTENT_LENGTH. If zero or negative there is no limit here (the
	// event loop's own body limit, --max-body-size, still applies). Over it: 413.
	MaxBodyBytes int64
}

// Normalize returns c with every unset limit replaced by its default, the values a
// Parser initialised with c enforces.
func (c Config) Normalize() Config {
	if c.MaxVarsBytes <= 0 || c.MaxVarsBytes > DefaultMaxVarsBytes {
		c.MaxVarsBytes = DefaultMaxVarsBytes
	}
	if c.MaxVars <= 0 {
		c.MaxVars = DefaultMaxVars
	}
	if c.MaxBodyBytes < 0 {
		c.MaxBodyBytes = 0
	}
	return c
}
