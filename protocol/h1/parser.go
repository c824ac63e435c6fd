package h1

import "github.com/asgo-dev/asgo/protocol/asgi"

// Event is what one Parse call produced.
type Event uint8

// Events returned by Parse.
const (
	// EventNone: more input is needed; n may be > 0 when framing bytes were consumed.
	EventNone Event = iota
	// EventHead: the request head is complete and Parser.Request is valid.
	EventHead
	// EventBody: Parser.Body holds body bytes (a sub-slice of data).
	EventBody
	// EventEnd: the message is complete; Parser.Trailers may hold chunked trailers and
	// the parser is ready for the next request.
	EventEnd
)

var eventNames = [...]string{"EventNone", "EventHead", "EventBody", "EventEnd"}

// String returns the constant's name.
func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "Event(?)"
}

// state is where the parser is inside the current message.
type state uint8

const (
	stateHead      state = iota // scanning the head
	stateBody                   // Content-Length body, remaining > 0
	stateChunkSize              // expecting a chunk-size line
	stateChunkData              // inside chunk data, remaining > 0
	stateChunkCRLF              // expecting the CRLF after chunk data
	stateTrailers               // scanning the trailer section after the last chunk
	stateEnd                    // message complete, EventEnd not yet returned
	stateFailed                 // a parse error happened; err is returned forever
)

var stateNames = [...]string{"head", "body", "chunk-size", "chunk-data", "chunk-crlf", "trailers", "end", "failed"}

func (s state) String() string { return stateNames[s] }

// legalFrom lists, for each state, the states it may be entered from.
var legalFrom = [...][]state{
	stateHead:      {stateEnd, stateTrailers},
	stateBody:      {stateHead},
	stateChunkSize: {stateHead, stateChunkCRLF},
	stateChunkData: {stateChunkSize},
	stateChunkCRLF: {stateChunkData},
	stateTrailers:  {stateChunkSize},
	stateEnd:       {stateHead, stateBody},
	stateFailed:    {stateHead, stateBody, stateChunkSize, stateChunkData, stateChunkCRLF, stateTrailers},
}

// setState is the one transition function: it checks the legal predecessor and panics
// on a parser bug (the event loop recovers and closes only that connection).
func (p *Parser) setState(to state) {
	for _, from := range legalFrom[to] {
		if p.state == from {
			p.state = to
			return
		}
	}
	panic("h1: illegal parser transition " + p.state.String() + " -> " + to.String())
}

// Parser parses the requests of one connection, incrementally and without I/O. Call
// Init (the zero value behaves as after Init(Config{})), then Parse with the
// connection's whole unread input each time bytes arrive or an event was returned,
// discarding the bytes Parse reports consumed.
//
// A Parser is used on the event loop goroutine only; it is not safe for concurrent use.
type Parser struct {
	// Owned by the loop goroutine:
	cfg   Config
	state state
	err   *Error

	// Line scanning (head, chunk-size line, trailers), relative to the first
	// unconsumed byte, so a resumed scan never reads a byte twice.
	scan      int   // bytes already searched for LF
	lineStart int   // start of the current line (head and trailers)
	lines     int   // complete non-empty lines seen (head and trailers)
	empties   int   // empty lines skipped before the request line
	headStart int   // head: start of the request line, after leading empty lines
	lineEnds  []int // head: offset of the LF ending each non-empty line

	remaining int64 // bytes left in the Content-Length body or the current chunk
	excess    int64 // chunk framing bytes not yet paid for by data
	bodySeen  bool  // a body byte of the current request was consumed

	f        fieldState // framing fields seen in the current head
	req      Request
	body     []byte
	trailers asgi.Headers
}

// Init normalises cfg (zero fields mean defaults) and resets the parser for a new
// connection, keeping buffers it already allocated.
func (p *Parser) Init(cfg Config) {
	hdr, tr, ends := p.req.Headers, p.trailers, p.lineEnds
	if hdr == nil {
		hdr = make(asgi.Headers, 0, 16)
	}
	if ends == nil {
		ends = make([]int, 0, 17)
	}
	*p = Parser{cfg: cfg.Normalize(), trailers: tr[:0], lineEnds: ends[:0]}
	p.req.Headers = hdr
	p.req.reset()
}

// Parse consumes bytes from the front of data and reports how many, the event they
// completed and a parse error, if any (always a *Error; afterwards the parser stays
// failed and the connection must be answered with err.Status and closed).
//
// The head is consumed only when complete (n is its length, EventHead); until then Parse
// returns (0, EventNone, nil) and remembers how far it searched, so bytes arriving one at
// a time cost linear work. After EventHead of a request without a body, the next call
// returns (0, EventEnd, nil) even with empty data. Body bytes come as EventBody, as many
// as data holds; chunk framing and trailers are consumed without an event of their own.
//
// data must start with the first byte not yet consumed and keep the bytes previously
// seen but not consumed. Parse may lower-case field names in place inside data. Slices
// from Request, Body and Trailers are valid until the next Parse call.
func (p *Parser) Parse(data []byte) (n int, ev Event, err error) {
	if p.cfg.MaxHeadBytes == 0 {
		p.Init(Config{}) // zero value: defaults
	}
	p.body = nil
	switch p.state {
	case stateHead:
		return p.parseHead(data)
	case stateBody:
		return p.parseBody(data)
	case stateEnd:
		p.endMessage()
		return 0, EventEnd, nil
	case stateFailed:
		return 0, EventNone, p.err
	default:
		return p.parseChunked(data)
	}
}

// Request returns the current request head, valid after EventHead (see Request for the
// lifetime of its slices).
func (p *Parser) Request() *Request { return &p.req }

// Body returns the body bytes of the last EventBody; valid until the next Parse call.
func (p *Parser) Body() []byte { return p.body }

// Trailers returns the trailer fields of the chunked message that just ended (names
// lower-cased), or nil; valid until the next Parse call.
func (p *Parser) Trailers() asgi.Headers {
	if len(p.trailers) == 0 {
		return nil
	}
	return p.trailers
}

// ContinueExpected reports whether the current request sent "Expect: 100-continue",
// announced a body and no body byte has been consumed yet. The loop then writes
// Continue100 when the app first asks for the body.
func (p *Parser) ContinueExpected() bool {
	switch p.state {
	case stateBody, stateChunkSize, stateChunkData:
		return p.req.Expect100 && !p.bodySeen
	}
	return false
}

// Err returns the error that failed the parser, or nil.
func (p *Parser) Err() error {
	if p.err == nil {
		return nil
	}
	return p.err
}

// fail makes err sticky and returns it as Parse results.
func (p *Parser) fail(err *Error) (int, Event, error) {
	p.setState(stateFailed)
	p.err = err
	return 0, EventNone, err
}

// resetScan forgets the line-scan position, at the start of a new line or section.
func (p *Parser) resetScan() {
	p.scan, p.lineStart, p.lines, p.headStart = 0, 0, 0, 0
	p.lineEnds = p.lineEnds[:0]
}

// BodyRemaining returns how many bytes of a Content-Length body are still to come: 0
// outside such a body (in a head, a chunked body, or at the message's end).
func (p *Parser) BodyRemaining() int64 {
	if p.state != stateBody {
		return 0
	}
	return p.remaining
}

// SkipBody accounts n bytes of a Content-Length body that the caller took from the
// connection itself (read straight into its own buffer, say), at most BodyRemaining:
// the parser then expects the rest of the body, or reports the message's end on the
// next Parse, even with empty data.
func (p *Parser) SkipBody(n int64) {
	if p.state != stateBody || n <= 0 {
		return
	}
	n = min(n, p.remaining)
	p.remaining -= n
	p.bodySeen = true
	if p.remaining == 0 {
		p.setState(stateEnd)
	}
}

// endMessage readies the parser for the next request head.
func (p *Parser) endMessage() {
	p.setState(stateHead)
	p.resetScan()
	p.empties = 0
	p.bodySeen = false
	p.remaining = 0
}

// parseBody delivers Content-Length body bytes.
func (p *Parser) parseBody(data []byte) (int, Event, error) {
	if len(data) == 0 {
		return 0, EventNone, nil
	}
	n := len(data)
	if int64(n) > p.remaining {
		n = int(p.remaining)
	}
	p.remaining -= int64(n)
	p.body = data[:n]
	p.bodySeen = true
	if p.remaining == 0 {
		p.setState(stateEnd)
	}
	return n, EventBody, nil
}
