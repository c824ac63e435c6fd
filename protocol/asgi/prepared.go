package asgi

import "sync"

// PreparedMessage is a websocket.send prepared once to be sent to many connections
// (a broadcast). A server that supports it (its WebSocketSender implements
// PreparedSender) encodes the message once per distinct encoding (frame format and
// compression setting, see Encoding), keeps that encoding in the PreparedMessage and
// queues the same immutable bytes to every connection by reference: a broadcast to n
// connections costs about one copy of the message, not n.
//
// Create it with NewPreparedMessage. A PreparedMessage is safe for concurrent use and
// immutable: neither its data nor its encodings change after they are made. Its
// memory lives as long as the app keeps the PreparedMessage or a connection's queue
// still refers to an encoding (until that connection has written it or closed); the
// garbage collector frees it after, so there is nothing to release.
type PreparedMessage struct {
	data []byte
	text bool

	mu sync.Mutex
	// Guarded by mu: one entry per encoding made so far, usually one or two.
	encodings []preparedEncoding
}

type preparedEncoding struct {
	key any
	val any
	err error
}

// NewPreparedMessage returns a websocket.send of data (a text message when text is
// set, then data must be valid UTF-8) to be sent to many connections. data is
// retained, not copied: it must not be modified afterwards.
func NewPreparedMessage(data []byte, text bool) *PreparedMessage {
	return &PreparedMessage{data: data, text: text}
}

// Data returns the message's payload; it must not be modified.
func (p *PreparedMessage) Data() []byte { return p.data }

// Text reports whether the message is a text message.
func (p *PreparedMessage) Text() bool { return p.text }

// Encoding is for servers: it returns p's encoding for key (a comparable value
// naming the frame format and compression setting), calling encode to make it the
// first time key is asked for. Concurrent callers with the same key wait for the
// first one, so a message is encoded (and compressed) once per key. An error from
// encode is kept and returned for key as well.
func (p *PreparedMessage) Encoding(key any, encode func(data []byte, text bool) (any, error)) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.encodings {
		if e.key == key {
			return e.val, e.err
		}
	}
	val, err := encode(p.data, p.text)
	p.encodings = append(p.encodings, preparedEncoding{key: key, val: val, err: err})
	return val, err
}

// PreparedSender is implemented by WebSocketSenders that send PreparedMessages
// without copying them (asgo's event mode does). Use SendPrepared rather than
// asserting it.
type PreparedSender interface {
	// SendPrepared queues pm for the connection as a websocket.send and returns
	// without blocking: the connection keeps a reference to pm's encoding until it
	// has written it. Safe for concurrent use. It fails as SendNow does:
	// ErrDisconnected once the connection is gone, a contract error before
	// websocket.accept or after websocket.close, and ErrBackpressure when the
	// connection's unsent output plus pm would pass the server's high-water mark
	// (a connection with nothing unsent always takes it). The check comes before
	// anything is queued, so a connection that refuses pm costs nothing.
	SendPrepared(pm *PreparedMessage) error
}

// SendPrepared sends pm on send: by reference when send implements PreparedSender,
// otherwise as a websocket.send of pm's data (which send encodes, a copy per
// connection). Safe for concurrent use as far as send is.
func SendPrepared(send WebSocketSender, pm *PreparedMessage) error {
	if ps, ok := send.(PreparedSender); ok {
		return ps.SendPrepared(pm)
	}
	return send.SendNow(&WebSocketSend{Data: pm.data, Text: pm.text})
}
