package uwsgi

import "encoding/binary"

// HeaderSize is the size of the packet header: modifier1 (u8), datasize (u16
// little-endian), modifier2 (u8).
const HeaderSize = 4

// Event is what one Parse call produced.
type Event uint8

// Events returned by Parse.
const (
	// EventNone: more input is needed.
	EventNone Event = iota
	// EventHead: the header and every var arrived; Parser.Request is valid.
	EventHead
	// EventBody: Parser.Body holds body bytes (a sub-slice of data).
	EventBody
	// EventEnd: the request is complete (CONTENT_LENGTH bytes of body were returned)
	// and the parser is ready for another packet.
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

// state is where the parser is inside the current packet.
type state uint8

const (
	stateHead   state = iota // waiting for the header and the whole vars block
	stateBody                // CONTENT_LENGTH body, remaining > 0
	stateEnd                 // request complete, EventEnd not yet returned
	stateFailed              // a parse error happened; err is returned forever
)

var stateNames = [...]string{"head", "body", "end", "failed"}

func (s state) String() string { return stateNames[s] }

// legalFrom lists, for each state, the states it may be entered from.
var legalFrom = [...][]state{
	stateHead:   {stateEnd},
	stateBody:   {stateHead},
	stateEnd:    {stateHead, stateBody},
	stateFailed: {stateHead},
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
	panic("uwsgi: illegal parser transition " + p.state.String() + " -> " + to.String())
}

// Parser parses the uwsgi packets of one connection, incrementally and without I/O.
// Call Init (the zero value behaves as after Init(Config{})), then Parse with the
// connection's whole unread input each time bytes arrive or an event was returned,
// discarding the bytes Parse reports consumed.
//
// A Parser is used on the event loop goroutine only; it is not safe for concurrent use.
type Parser struct {
	// Owned by the loop goroutine:
	cfg       Config
	state     state
	err       *Error
	remaining int64 // body bytes not yet returned
	req       Request
	body      []byte
}

// Init normalises cfg (zero fields mean defaults) and resets the parser for a new
// connection, keeping buffers it already allocated.
func (p *Parser) Init(cfg Config) {
	vars := p.req.Vars
	if vars == nil {
		vars = make([]Var, 0, 32)
	}
	*p = Parser{cfg: cfg.Normalize()}
	p.req.Vars = vars
	p.req.reset()
}

// Parse consumes bytes from the front of data and reports how many, the event they
// completed and a parse error, if any (always a *Error; afterwards the parser stays
// failed and the session must answer err.Status and close).
//
// The header and vars are consumed only when the whole vars block arrived (n is
// HeaderSize plus datasize, EventHead); until then Parse returns (0, EventNone, nil)
// and looks at no more than the 4 header bytes, so bytes arriving one at a time cost
// linear work. A modifier1 other than 0 fails as soon as its byte arrives. After
// EventHead of a request without a body, the next call returns (0, EventEnd, nil) even
// with empty data. Body bytes come as EventBody, as many as data holds, up to
// CONTENT_LENGTH.
//
// data must start with the first byte not yet consumed and keep the bytes previously
// seen but not consumed. Slices from Request and Body point into data and are valid
// until the next Parse call.
func (p *Parser) Parse(data []byte) (n int, ev Event, err error) {
	if p.cfg.MaxVarsBytes == 0 {
		p.Init(Config{}) // zero value: defaults
	}
	p.body = nil
	switch p.state {
	case stateHead:
		return p.parseHead(data)
	case stateBody:
		return p.parseBody(data)
	case stateEnd:
		p.setState(stateHead)
		p.req.reset()
		return 0, EventEnd, nil
	}
	return 0, EventNone, p.err
}

// Request returns the current request, valid after EventHead (see Request for the
// lifetime of its slices).
func (p *Parser) Request() *Request { return &p.req }

// Body returns the body bytes of the last EventBody; valid until the next Parse call.
func (p *Parser) Body() []byte { return p.body }

// Remaining returns the body bytes still expected for the current request.
func (p *Parser) Remaining() int64 { return p.remaining }

// Idle reports whether the parser is between packets: no byte of a packet has been
// consumed. A session whose peer closes while the parser is not idle lost a request
// halfway (a truncated packet); it closes without an answer.
func (p *Parser) Idle() bool { return p.state == stateHead }

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

// parseHead waits for the header and the whole vars block, then parses the vars.
func (p *Parser) parseHead(data []byte) (int, Event, error) {
	if len(data) > 0 && data[0] != 0 {
		return p.fail(ErrModifier1)
	}
	if len(data) < HeaderSize {
		return 0, EventNone, nil
	}
	size := int(binary.LittleEndian.Uint16(data[1:3]))
	if size > p.cfg.MaxVarsBytes {
		return p.fail(ErrVarsTooLarge)
	}
	if len(data) < HeaderSize+size {
		return 0, EventNone, nil
	}
	p.req.reset()
	p.req.Modifier2 = data[3]
	if err := p.parseVars(data[HeaderSize : HeaderSize+size]); err != nil {
		return p.fail(err)
	}
	if err := p.req.validate(p.cfg); err != nil {
		return p.fail(err)
	}
	p.remaining = p.req.ContentLength
	if p.remaining > 0 {
		p.setState(stateBody)
	} else {
		p.setState(stateEnd)
	}
	return HeaderSize + size, EventHead, nil
}

// parseVars splits the vars block into p.req.Vars. It is a byte loop over the block.
func (p *Parser) parseVars(b []byte) *Error {
	for len(b) > 0 {
		if len(p.req.Vars) == p.cfg.MaxVars {
			return ErrTooManyVars
		}
		key, rest, ok := lenPrefixed(b)
		if !ok {
			return ErrMalformedVars
		}
		value, rest, ok := lenPrefixed(rest)
		if !ok {
			return ErrMalformedVars
		}
		if !validKey(key) {
			return ErrInvalidKey
		}
		if !validValue(value) {
			return ErrInvalidValue
		}
		if err := p.req.add(key, value); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// lenPrefixed splits a u16-LE-length-prefixed string off the front of b.
func lenPrefixed(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.LittleEndian.Uint16(b))
	if len(b)-2 < n {
		return nil, nil, false
	}
	return b[2 : 2+n : 2+n], b[2+n:], true
}

func validKey(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

func validValue(v []byte) bool {
	for _, c := range v {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

// parseBody returns as many body bytes as data holds, up to the remaining length.
func (p *Parser) parseBody(data []byte) (int, Event, error) {
	k := int64(len(data))
	if k > p.remaining {
		k = p.remaining
	}
	if k == 0 {
		return 0, EventNone, nil
	}
	p.body = data[:k]
	p.remaining -= k
	if p.remaining == 0 {
		p.setState(stateEnd)
	}
	return int(k), EventBody, nil
}
