package h2

import (
	"bytes"
	"io"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// ClientPreface is the HTTP/2 client connection preface (RFC 9113 3.4). A host detects
// prior-knowledge h2c by checking that a connection starts with it.
const ClientPreface = http2.ClientPreface

// Handler receives the events of a Conn. Its methods are called from inside Feed, on the
// goroutine calling Feed and with the host's connection mutex held: they must not block
// and must not call the Conn.
type Handler interface {
	// OnRequest reports a new stream with a valid request head. The host owns req. The
	// stream counts against MaxConcurrentStreams until the host calls Release.
	OnRequest(id uint32, req *Request)
	// OnData delivers request body bytes of stream id; data is valid only until OnData
	// returns. endStream marks the end of the body (data may then be empty, for
	// example after request trailers, which are validated and dropped). The host
	// reports the bytes with Consumed as the application reads them.
	OnData(id uint32, data []byte, endStream bool)
	// OnReset reports that stream id ended abnormally: reset by the peer, or by the
	// Conn because of a stream error. Later response methods return ErrStreamClosed.
	// The host still calls Release when the application has finished.
	OnReset(id uint32, code ErrCode)
	// OnSendWindow reports that send windows grew: of stream id, or of the connection
	// or every stream when id is 0. Writers blocked on WriteData may retry.
	OnSendWindow(id uint32)
	// OnGoAway reports a GOAWAY from the peer. Streams above lastStreamID are not
	// known to the peer; the host usually starts a graceful shutdown.
	OnGoAway(code ErrCode, lastStreamID uint32)
}

type connState uint8

const (
	connAwaitingPreface  connState = iota // client preface not yet received
	connAwaitingSettings                  // preface received; first frame must be SETTINGS
	connOpen                              // established
	connClosed                            // connection error or final GOAWAY sent
)

// Conn is the server side of one HTTP/2 connection. It is not safe for concurrent use:
// the host serialises every call with its connection mutex (see the package doc).
type Conn struct {
	cfg Config
	h   Handler

	fr  *http2.Framer
	src frameSource  // the bytes of the frame(s) being read by fr
	out appendWriter // the caller's dst while a method runs; fr writes here
	dec *hpack.Decoder
	enc *hpack.Encoder
	blk appendWriter // the header block being encoded by enc

	state      connState
	streams    map[uint32]*stream
	maxClient  uint32 // highest client stream id seen
	goAway     bool   // GOAWAY sent: new streams are ignored
	unacked    int    // our SETTINGS not yet acknowledged
	chainStart int    // scan position inside an incomplete HEADERS+CONTINUATION chain

	peerMaxFrame  uint32
	peerInitial   int64
	sendConn      int64 // connection send window
	recvConn      int64 // connection receive window left to the peer
	connCredit    int64 // consumed connection bytes not yet granted back
	resets        int   // reset budget left
	now           time.Time
	ctrlStart     time.Time
	ctrlCount     int
	recentResets  [32]uint32 // streams we reset and removed: late frames are ignored
	recentResetAt int
	counters      *Counters // nil: not counted (SetCounters)
}

// NewConn returns the server side of an HTTP/2 connection with cfg (normalised here)
// delivering events to h. Call Start (prior knowledge) or StartUpgrade (h2c upgrade)
// before Feed.
func NewConn(cfg Config, h Handler) *Conn {
	cfg = cfg.Normalize()
	c := &Conn{
		cfg:          cfg,
		h:            h,
		streams:      make(map[uint32]*stream),
		peerMaxFrame: minFrameSize,
		peerInitial:  initialWindow,
		sendConn:     initialWindow,
		recvConn:     int64(cfg.ConnWindow),
		resets:       cfg.MaxResets,
	}
	c.fr = http2.NewFramer(&c.out, &c.src)
	c.fr.SetReuseFrames()
	c.fr.SetMaxReadFrameSize(cfg.MaxFrameSize)
	c.fr.MaxHeaderListSize = cfg.MaxHeaderListSize
	c.dec = hpack.NewDecoder(cfg.HeaderTableSize, nil)
	c.fr.ReadMetaHeaders = c.dec
	c.enc = hpack.NewEncoder(&c.blk)
	return c
}

// Start appends the server connection preface (SETTINGS and the connection
// WINDOW_UPDATE) to dst. Call it once, first.
func (c *Conn) Start(dst []byte) []byte {
	c.begin(dst)
	c.writePreface()
	return c.end()
}

func (c *Conn) writePreface() {
	settings := []http2.Setting{
		{ID: http2.SettingMaxConcurrentStreams, Val: c.cfg.MaxConcurrentStreams},
		{ID: http2.SettingInitialWindowSize, Val: c.cfg.StreamWindow},
		{ID: http2.SettingMaxFrameSize, Val: c.cfg.MaxFrameSize},
		{ID: http2.SettingMaxHeaderListSize, Val: c.cfg.MaxHeaderListSize},
	}
	if !c.cfg.DisableExtendedConnect {
		settings = append(settings, http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	}
	if c.cfg.HeaderTableSize != DefaultHeaderTableSize {
		settings = append(settings, http2.Setting{ID: http2.SettingHeaderTableSize, Val: c.cfg.HeaderTableSize})
	}
	c.fr.WriteSettings(settings...)
	c.unacked++
	if inc := c.cfg.ConnWindow - initialWindow; inc > 0 {
		c.fr.WriteWindowUpdate(0, inc)
	}
}

// Established reports whether the client preface and the client's first SETTINGS
// frame have arrived. Hosts close connections that stay unestablished too long.
func (c *Conn) Established() bool { return c.state == connOpen }

// Closed reports whether the connection has ended (connection error or Finish).
func (c *Conn) Closed() bool { return c.state == connClosed }

// ActiveStreams returns the number of streams that are open or whose application has
// not been released yet.
func (c *Conn) ActiveStreams() int { return len(c.streams) }

// Drained reports whether a GOAWAY was sent and every stream is done: the host may
// close the connection once its output is written.
func (c *Conn) Drained() bool { return c.goAway && len(c.streams) == 0 }

// Feed processes the connection's unread input. It appends the resulting frames to
// dst and returns dst, the number of bytes of in consumed (the host keeps the rest and
// passes it again, with more bytes appended, on the next call), and an error when the
// connection must end: a *ConnError (the GOAWAY is already in dst) or ErrConnClosed.
// now is the current time, used for the control-frame budget. Only complete frames are
// consumed; an incomplete HEADERS+CONTINUATION chain stays unconsumed up to the
// header-block limit. in is not retained.
func (c *Conn) Feed(dst, in []byte, now time.Time) ([]byte, int, error) {
	c.begin(dst)
	c.now = now
	n, err := c.feed(in)
	c.src.b = nil
	return c.end(), n, err
}

func (c *Conn) feed(in []byte) (int, error) {
	if c.state == connClosed {
		return 0, ErrConnClosed
	}
	off := 0
	if c.state == connAwaitingPreface {
		n, err := c.readPreface(in)
		if n == 0 || err != nil {
			return 0, c.fail(err)
		}
		off = n
	}
	for c.state != connClosed {
		need, err := c.frameLen(in[off:])
		if err != nil {
			return off, c.fail(err)
		}
		if need == 0 {
			break
		}
		c.src.b = in[off : off+need]
		off += need
		if err := c.readFrame(); err != nil {
			return off, c.fail(err)
		}
	}
	return off, nil
}

// readPreface consumes the client preface; 0 with a nil error means more bytes needed.
func (c *Conn) readPreface(in []byte) (int, error) {
	n := min(len(in), len(ClientPreface))
	if !bytes.Equal(in[:n], []byte(ClientPreface[:n])) {
		return 0, ErrBadPreface
	}
	if n < len(ClientPreface) {
		return 0, nil
	}
	c.state = connAwaitingSettings
	return n, nil
}

// frameLen returns the length of the next complete frame (a whole HEADERS+CONTINUATION
// chain counts as one), 0 when more bytes are needed, or a connection error for frames
// that are too large or chains that break the CONTINUATION rules.
func (c *Conn) frameLen(b []byte) (int, error) {
	if len(b) < frameHeaderSize {
		return 0, nil
	}
	fh := parseHeader(b)
	if fh.length > c.cfg.MaxFrameSize {
		return 0, connErr(ErrCodeFrameSize, "frame too large")
	}
	total := frameHeaderSize + int(fh.length)
	if fh.typ != http2.FrameHeaders || fh.flags&http2.FlagHeadersEndHeaders != 0 {
		if len(b) < total {
			return 0, nil
		}
		return total, nil
	}
	return c.chainLen(b, total, fh.stream)
}

// chainLen scans the CONTINUATION frames that follow a HEADERS frame without
// END_HEADERS (CVE-2024-27316: the chain is bounded by the header-block limit). It
// remembers how far it got, so a chain arriving in small pieces is scanned once.
func (c *Conn) chainLen(b []byte, off int, id uint32) (int, error) {
	if c.chainStart > off {
		off = c.chainStart
	}
	for {
		if off > c.cfg.maxHeaderBlock() {
			c.chainStart = 0
			return 0, connErr(ErrCodeEnhanceYourCalm, "header block too large")
		}
		if len(b) < off+frameHeaderSize {
			c.chainStart = off
			return 0, nil
		}
		fh := parseHeader(b[off:])
		if fh.typ != http2.FrameContinuation || fh.stream != id {
			c.chainStart = 0
			return 0, connErr(ErrCodeProtocol, "expected CONTINUATION")
		}
		if fh.length > c.cfg.MaxFrameSize {
			c.chainStart = 0
			return 0, connErr(ErrCodeFrameSize, "frame too large")
		}
		if fh.flags&http2.FlagContinuationEndHeaders == 0 {
			off += frameHeaderSize + int(fh.length)
			continue
		}
		end := off + frameHeaderSize + int(fh.length)
		if len(b) < end {
			c.chainStart = off
			return 0, nil
		}
		c.chainStart = 0
		return end, nil
	}
}

type frameHead struct {
	length uint32
	typ    http2.FrameType
	flags  http2.Flags
	stream uint32
}

func parseHeader(b []byte) frameHead {
	return frameHead{
		length: uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]),
		typ:    http2.FrameType(b[3]),
		flags:  http2.Flags(b[4]),
		stream: (uint32(b[5])<<24 | uint32(b[6])<<16 | uint32(b[7])<<8 | uint32(b[8])) & (1<<31 - 1),
	}
}

// readFrame parses the frame in c.src with the Framer and processes it.
func (c *Conn) readFrame() error {
	fh := parseHeader(c.src.b)
	if fh.typ == http2.FrameHeaders {
		if err := c.chargeEmptyFragments(c.src.b); err != nil {
			return err
		}
	}
	id := fh.stream
	f, err := c.fr.ReadFrame()
	if err != nil {
		return c.readError(id, err)
	}
	if c.state == connAwaitingSettings {
		if sf, ok := f.(*http2.SettingsFrame); !ok || sf.IsAck() {
			return connErr(ErrCodeProtocol, "first frame is not SETTINGS")
		}
		c.state = connOpen
	}
	return c.processFrame(f)
}

// chargeEmptyFragments spends one unit of the control-frame budget for every frame of
// the HEADERS+CONTINUATION chain b that carries an empty header-block fragment
// (CVE-2019-9518: empty frames cost the peer nothing and the server a frame's work).
func (c *Conn) chargeEmptyFragments(b []byte) error {
	for off := 0; off+frameHeaderSize <= len(b); {
		fh := parseHeader(b[off:])
		end := off + frameHeaderSize + int(fh.length)
		if end > len(b) {
			return nil
		}
		if fragmentLen(fh, b[off+frameHeaderSize:end]) == 0 {
			if err := c.chargeControl(); err != nil {
				return err
			}
		}
		off = end
	}
	return nil
}

// fragmentLen is the length of the header-block fragment in a HEADERS or CONTINUATION
// frame with payload p: the payload less padding and priority fields. It is negative
// for a malformed frame, which the Framer rejects.
func fragmentLen(fh frameHead, p []byte) int {
	n := len(p)
	if fh.typ != http2.FrameHeaders {
		return n
	}
	if fh.flags&http2.FlagHeadersPadded != 0 {
		if n == 0 {
			return -1
		}
		n -= 1 + int(p[0])
	}
	if fh.flags&http2.FlagHeadersPriority != 0 {
		n -= 5
	}
	return n
}

// readError maps a Framer error to a stream error (handled here) or a connection error.
func (c *Conn) readError(id uint32, err error) error {
	switch e := err.(type) {
	case http2.StreamError:
		if e.StreamID%2 == 1 && e.StreamID > c.maxClient && c.streams[e.StreamID] == nil {
			c.maxClient = e.StreamID // a HEADERS block that failed validation used the id
		}
		return c.streamError(e.StreamID, e.Code)
	case http2.ConnectionError:
		reason := "frame error"
		if d := c.fr.ErrorDetail(); d != nil {
			reason = d.Error()
		}
		return connErr(ErrCode(e), reason)
	}
	return connErr(ErrCodeProtocol, err.Error())
}

// fail ends the connection after a connection error: GOAWAY with the error code and
// the last stream id we processed.
func (c *Conn) fail(err error) error {
	if err == nil || c.state == connClosed {
		return err
	}
	ce, ok := err.(*ConnError)
	if !ok {
		c.state = connClosed
		return err
	}
	c.writeGoAway(ce.Code, []byte(ce.Reason))
	c.goAway = true
	c.state = connClosed
	return ce
}

// Shutdown starts a graceful shutdown: GOAWAY NO_ERROR with the last processed stream
// id. Streams already known complete; new ones are ignored. Close the connection once
// Drained reports true. Calling it again does nothing.
func (c *Conn) Shutdown(dst []byte) []byte {
	c.begin(dst)
	if !c.goAway && c.state != connClosed {
		c.writeGoAway(ErrCodeNo, nil)
		c.goAway = true
	}
	return c.end()
}

// Abort ends the connection at once with GOAWAY code (for example NO_ERROR on an idle
// timeout, or a stalled-writer timeout); later calls return ErrConnClosed.
func (c *Conn) Abort(dst []byte, code ErrCode, reason string) []byte {
	c.begin(dst)
	c.fail(connErr(code, reason))
	return c.end()
}

func (c *Conn) begin(dst []byte) { c.out.b = dst }

func (c *Conn) end() []byte {
	b := c.out.b
	c.out.b = nil
	return b
}

// frameSource hands the Framer the bytes of complete frames only.
type frameSource struct{ b []byte }

func (s *frameSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
