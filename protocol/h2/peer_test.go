package h2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// recorder is a Handler that records every event.
type recorder struct {
	reqs    map[uint32]*Request
	body    map[uint32][]byte
	ended   map[uint32]bool
	resets  map[uint32]ErrCode
	windows int
	goAway  []ErrCode
	onReq   func(id uint32, req *Request)
}

func newRecorder() *recorder {
	return &recorder{reqs: map[uint32]*Request{}, body: map[uint32][]byte{}, ended: map[uint32]bool{}, resets: map[uint32]ErrCode{}}
}

func (r *recorder) OnRequest(id uint32, req *Request) {
	r.reqs[id] = req
	if r.onReq != nil {
		r.onReq(id, req)
	}
}
func (r *recorder) OnData(id uint32, data []byte, end bool) {
	r.body[id] = append(r.body[id], data...)
	if end {
		r.ended[id] = true
	}
}
func (r *recorder) OnReset(id uint32, code ErrCode)      { r.resets[id] = code }
func (r *recorder) OnSendWindow(uint32)                  { r.windows++ }
func (r *recorder) OnGoAway(code ErrCode, lastID uint32) { r.goAway = append(r.goAway, code) }

// chunking says how the peer's bytes reach Feed.
type chunking int

const (
	whole chunking = iota
	byteByByte
	randomChunks
)

func (ch chunking) String() string { return [...]string{"whole", "bytes", "random"}[ch] }

// peer is a scripted HTTP/2 client talking to a Conn without sockets: it writes frames,
// feeds them to the Conn in chunks, and reads back what the Conn wrote.
type peer struct {
	t     testing.TB
	c     *Conn
	h     *recorder
	chunk chunking
	rng   *rand.Rand
	now   time.Time

	wbuf    bytes.Buffer // frames written by the peer, not yet fed
	fw      *http2.Framer
	enc     *hpack.Encoder
	encBuf  bytes.Buffer
	inbound []byte // fed but not consumed (the host's input buffer)
	out     []byte // Conn output not yet read by the peer
	rd      bytes.Reader
	fr      *http2.Framer
	err     error // the error Feed returned, if any
}

// run runs f once per chunking mode.
func run(t *testing.T, cfg Config, f func(t *testing.T, p *peer)) {
	for _, ch := range []chunking{whole, byteByByte, randomChunks} {
		t.Run(ch.String(), func(t *testing.T) { f(t, newPeer(t, cfg, ch, 1)) })
	}
}

func newPeer(t testing.TB, cfg Config, ch chunking, seed uint64) *peer {
	p := &peer{t: t, h: newRecorder(), chunk: ch, rng: rand.New(rand.NewPCG(seed, 7)), now: time.Unix(1000, 0)}
	p.c = NewConn(cfg, p.h)
	p.fw = http2.NewFramer(&p.wbuf, nil)
	p.fw.AllowIllegalWrites = true
	p.enc = hpack.NewEncoder(&p.encBuf)
	p.fr = http2.NewFramer(nil, &p.rd)
	p.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	p.fr.SetMaxReadFrameSize(1 << 24)
	p.out = p.c.Start(p.out)
	return p
}

// handshake sends the preface and an empty SETTINGS and checks the server's preface.
func (p *peer) handshake() {
	p.t.Helper()
	p.wbuf.WriteString(ClientPreface)
	p.fw.WriteSettings()
	p.flush()
	sf := p.want(http2.FrameSettings).(*http2.SettingsFrame)
	if sf.IsAck() {
		p.t.Fatal("server preface: got SETTINGS ACK first")
	}
	if v, _ := sf.Value(http2.SettingMaxConcurrentStreams); v != p.c.cfg.MaxConcurrentStreams {
		p.t.Fatalf("MAX_CONCURRENT_STREAMS = %d", v)
	}
	if inc := p.c.cfg.ConnWindow - initialWindow; inc > 0 {
		p.wantWindowUpdate(0, inc)
	}
	p.wantSettingsAck()
	p.fw.WriteSettingsAck()
	p.flush()
}

// flush feeds everything the peer wrote to the Conn, in the peer's chunk sizes.
func (p *peer) flush() {
	p.t.Helper()
	data := p.wbuf.Bytes()
	for len(data) > 0 && p.err == nil {
		n := len(data)
		switch p.chunk {
		case byteByByte:
			n = 1
		case randomChunks:
			n = 1 + p.rng.IntN(min(len(data), 4096))
		}
		p.inbound = append(p.inbound, data[:n]...)
		data = data[n:]
		var used int
		p.out, used, p.err = p.c.Feed(p.out, p.inbound, p.now)
		p.inbound = p.inbound[:copy(p.inbound, p.inbound[used:])]
	}
	p.wbuf.Reset()
}

func (p *peer) headers(id uint32, end bool, pairs ...string) {
	p.t.Helper()
	p.fw.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.block(pairs...), EndStream: end, EndHeaders: true})
	p.flush()
}

// get opens stream id with a GET request for path and no body.
func (p *peer) get(id uint32, path string) {
	p.t.Helper()
	p.headers(id, true, ":method", "GET", ":scheme", "http", ":authority", "example.com", ":path", path)
}

// post opens stream id with a POST for path whose body follows.
func (p *peer) post(id uint32, path string, extra ...string) {
	p.t.Helper()
	p.headers(id, false, append([]string{":method", "POST", ":scheme", "http", ":authority", "example.com", ":path", path}, extra...)...)
}

func (p *peer) block(pairs ...string) []byte {
	p.encBuf.Reset()
	for i := 0; i+1 < len(pairs); i += 2 {
		p.enc.WriteField(hpack.HeaderField{Name: pairs[i], Value: pairs[i+1]})
	}
	return bytes.Clone(p.encBuf.Bytes())
}

// data sends b on stream id in frames of at most 16 KiB.
func (p *peer) data(id uint32, b []byte, end bool) {
	p.t.Helper()
	for {
		n := min(len(b), 16384)
		p.fw.WriteData(id, end && n == len(b), b[:n])
		b = b[n:]
		if len(b) == 0 {
			break
		}
	}
	p.flush()
}

func (p *peer) rst(id uint32, code ErrCode) {
	p.t.Helper()
	p.fw.WriteRSTStream(id, code)
	p.flush()
}

func (p *peer) raw(typ http2.FrameType, flags http2.Flags, id uint32, payload []byte) {
	p.t.Helper()
	p.fw.WriteRawFrame(typ, flags, id, payload)
	p.flush()
}

// respond plays the application of stream id: a response with status and body.
func (p *peer) respond(id uint32, status int, body string) {
	p.t.Helper()
	var err error
	p.out, err = p.c.WriteHeaders(p.out, id, status, asgi.H("content-type", "text/plain"), false)
	if err != nil {
		p.t.Fatalf("WriteHeaders: %v", err)
	}
	var n int
	p.out, n, err = p.c.WriteData(p.out, id, []byte(body), true)
	if err != nil || n != len(body) {
		p.t.Fatalf("WriteData: n=%d err=%v", n, err)
	}
	p.out = p.c.Release(p.out, id)
}

// next returns the next frame the Conn wrote, or nil when there is none.
func (p *peer) next() http2.Frame {
	p.t.Helper()
	if len(p.out) == 0 {
		return nil
	}
	p.rd.Reset(p.out)
	f, err := p.fr.ReadFrame()
	if err != nil {
		p.t.Fatalf("reading server frame: %v", err)
	}
	p.out = p.out[len(p.out)-p.rd.Len():]
	return f
}

// want returns the next frame and checks its type.
func (p *peer) want(typ http2.FrameType) http2.Frame {
	p.t.Helper()
	f := p.next()
	if f == nil {
		p.t.Fatalf("want %v frame, got nothing (feed error %v)", typ, p.err)
	}
	if f.Header().Type != typ {
		p.t.Fatalf("want %v frame, got %v", typ, describe(f))
	}
	return f
}

func describe(f http2.Frame) string {
	switch f := f.(type) {
	case *http2.RSTStreamFrame:
		return fmt.Sprintf("RST_STREAM stream=%d code=%v", f.StreamID, f.ErrCode)
	case *http2.GoAwayFrame:
		return fmt.Sprintf("GOAWAY last=%d code=%v debug=%q", f.LastStreamID, f.ErrCode, f.DebugData())
	case *http2.MetaHeadersFrame:
		return fmt.Sprintf("HEADERS stream=%d %v", f.StreamID, f.Fields)
	}
	return fmt.Sprintf("%v", f.Header())
}

// wantHeaders checks a response HEADERS frame and returns its fields by name.
func (p *peer) wantHeaders(id uint32, status string, end bool) map[string]string {
	p.t.Helper()
	f := p.want(http2.FrameHeaders).(*http2.MetaHeadersFrame)
	if f.StreamID != id || f.PseudoValue("status") != status || f.StreamEnded() != end {
		p.t.Fatalf("want HEADERS stream=%d :status=%s end=%v, got %s end=%v", id, status, end, describe(f), f.StreamEnded())
	}
	m := map[string]string{}
	for _, hf := range f.Fields {
		m[hf.Name] = hf.Value
	}
	return m
}

func (p *peer) wantData(id uint32, body string, end bool) {
	p.t.Helper()
	f := p.want(http2.FrameData).(*http2.DataFrame)
	if f.StreamID != id || string(f.Data()) != body || f.StreamEnded() != end {
		p.t.Fatalf("want DATA stream=%d %q end=%v, got stream=%d %q end=%v", id, body, end, f.StreamID, f.Data(), f.StreamEnded())
	}
}

func (p *peer) wantRSTStream(id uint32, code ErrCode) {
	p.t.Helper()
	f := p.want(http2.FrameRSTStream).(*http2.RSTStreamFrame)
	if f.StreamID != id || f.ErrCode != code {
		p.t.Fatalf("want RST_STREAM stream=%d %v, got %s", id, code, describe(f))
	}
}

func (p *peer) wantGoAway(code ErrCode) *http2.GoAwayFrame {
	p.t.Helper()
	f := p.want(http2.FrameGoAway).(*http2.GoAwayFrame)
	if f.ErrCode != code {
		p.t.Fatalf("want GOAWAY %v, got %s", code, describe(f))
	}
	return f
}

func (p *peer) wantWindowUpdate(id uint32, inc uint32) {
	p.t.Helper()
	f := p.want(http2.FrameWindowUpdate).(*http2.WindowUpdateFrame)
	if f.StreamID != id || f.Increment != inc {
		p.t.Fatalf("want WINDOW_UPDATE stream=%d +%d, got stream=%d +%d", id, inc, f.StreamID, f.Increment)
	}
}

func (p *peer) wantSettingsAck() {
	p.t.Helper()
	if f := p.want(http2.FrameSettings).(*http2.SettingsFrame); !f.IsAck() {
		p.t.Fatal("want SETTINGS ACK, got SETTINGS")
	}
}

func (p *peer) wantNothing() {
	p.t.Helper()
	if f := p.next(); f != nil {
		p.t.Fatalf("want no frame, got %s", describe(f))
	}
}

// wantConnError checks that Feed failed with a connection error carrying code and that
// the GOAWAY carrying it was written.
func (p *peer) wantConnError(code ErrCode) {
	p.t.Helper()
	for {
		f := p.next()
		if f == nil {
			p.t.Fatalf("want GOAWAY %v, got none (feed error %v)", code, p.err)
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			if g.ErrCode != code {
				p.t.Fatalf("want GOAWAY %v, got %s", code, describe(g))
			}
			break
		}
	}
	ce, ok := p.err.(*ConnError)
	if !ok || ce.Code != code {
		p.t.Fatalf("want Feed error with %v, got %v", code, p.err)
	}
}

func (p *peer) wantOK() {
	p.t.Helper()
	if p.err != nil {
		p.t.Fatalf("Feed: %v", p.err)
	}
}
