package h2

import (
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// The response methods below are called by the host for the application of a stream,
// with the connection mutex held. Each appends its frames to dst and returns it.

// WriteHeaders encodes the response head of stream id (HEADERS, plus CONTINUATION
// frames when the block exceeds the peer's frame size). Header names are lower-cased;
// connection-specific fields, which HTTP/2 forbids, are dropped. endStream ends the
// response (no body). It returns ErrStreamClosed when the stream is gone and
// ErrConnClosed after the connection ended. headers are not retained.
func (c *Conn) WriteHeaders(dst []byte, id uint32, status int, headers asgi.Headers, endStream bool) ([]byte, error) {
	c.begin(dst)
	st, err := c.sendable(id)
	if err == nil {
		c.encodeResponse(id, status, headers, endStream)
		st.respStarted = true
		if endStream {
			c.endLocal(st)
		}
	}
	return c.end(), err
}

// WriteInformational encodes an informational (1xx) response head of stream id, such
// as 103 Early Hints (RFC 8297): a HEADERS frame without END_STREAM, before the final
// response's WriteHeaders. It returns ErrStreamClosed when the stream is gone or its
// final response has started, and ErrConnClosed after the connection ended. headers
// are not retained.
func (c *Conn) WriteInformational(dst []byte, id uint32, status int, headers asgi.Headers) ([]byte, error) {
	c.begin(dst)
	st, err := c.sendable(id)
	if err == nil && st.respStarted {
		err = ErrStreamClosed
	}
	if err == nil {
		c.encodeBlock(id, status, headers, false)
	}
	return c.end(), err
}

// AnnounceTrailers records that the response of stream id ends with trailers: the last
// body write does not end the stream, WriteTrailers does.
func (c *Conn) AnnounceTrailers(id uint32) {
	if st := c.streams[id]; st != nil {
		st.wantTrailers = true
	}
}

// WriteData sends as much of data on stream id as the connection and stream send
// windows allow, in frames of at most the peer's frame size, and returns dst and the
// number of bytes accepted. When fewer than len(data) bytes were accepted the caller
// waits for Handler.OnSendWindow and sends the rest. endStream ends the response once
// all of data is sent (an empty data with endStream sends an empty END_STREAM frame);
// it is ignored while trailers are announced. data is not retained.
func (c *Conn) WriteData(dst []byte, id uint32, data []byte, endStream bool) ([]byte, int, error) {
	c.begin(dst)
	st, err := c.sendable(id)
	if err != nil {
		return c.end(), 0, err
	}
	endStream = endStream && !st.wantTrailers
	n := 0
	for n < len(data) {
		chunk := min(int64(len(data)-n), c.sendConn, st.sendWin, int64(c.peerMaxFrame))
		if chunk <= 0 {
			break
		}
		end := endStream && n+int(chunk) == len(data)
		c.appendData(id, data[n:n+int(chunk)], end)
		c.sendConn -= chunk
		st.sendWin -= chunk
		n += int(chunk)
	}
	if endStream && n == len(data) {
		if len(data) == 0 {
			c.appendData(id, nil, true)
		}
		c.endLocal(st)
	}
	return c.end(), n, nil
}

// WriteTrailers sends the response trailers of stream id and ends the stream
// (http.response.trailers). headers are not retained.
func (c *Conn) WriteTrailers(dst []byte, id uint32, headers asgi.Headers) ([]byte, error) {
	c.begin(dst)
	st, err := c.sendable(id)
	if err == nil {
		c.encodeBlock(id, -1, headers, true)
		c.endLocal(st)
	}
	return c.end(), err
}

// Reset ends stream id with RST_STREAM code on the server's initiative (for example
// INTERNAL_ERROR when the application failed after the response started). It does
// nothing when the stream is already closed.
func (c *Conn) Reset(dst []byte, id uint32, code ErrCode) []byte {
	c.begin(dst)
	if st := c.streams[id]; st != nil && st.state != stateClosed && c.state != connClosed {
		c.writeRST(id, code)
		st.transition(stateClosed)
		st.localReset = true
		c.maybeRemove(st)
	}
	return c.end()
}

// Consumed reports that the application has read n body bytes of stream id, granting
// them back to the peer with WINDOW_UPDATE frames (batched: an update is sent once half
// a window is owed). It is what makes a slow application hold back the client.
func (c *Conn) Consumed(dst []byte, id uint32, n int) []byte {
	c.begin(dst)
	st := c.streams[id]
	if st == nil || n <= 0 || c.state == connClosed {
		return c.end() // a removed stream's bytes were granted back when it was removed
	}
	k := min(int64(n), st.unconsumed)
	st.unconsumed -= k
	c.creditConn(k)
	c.creditStream(st, k)
	return c.end()
}

// creditStream owes n bytes of st's window back to the peer and sends WINDOW_UPDATE
// once half the window is owed, while the peer may still send on st.
func (c *Conn) creditStream(st *stream, n int64) {
	if !st.remoteOpen() {
		return
	}
	st.credit += n
	if st.credit >= int64(c.cfg.StreamWindow)/2 {
		c.fr.WriteWindowUpdate(st.id, uint32(st.credit))
		st.recvWin += st.credit
		st.credit = 0
	}
}

// Release tells the Conn that the application of stream id has finished. A response
// that was never completed is reset with INTERNAL_ERROR; a complete response whose
// request body is still arriving is followed by RST_STREAM NO_ERROR (RFC 9113 8.1).
// The stream then stops counting against MaxConcurrentStreams.
func (c *Conn) Release(dst []byte, id uint32) []byte {
	c.begin(dst)
	st := c.streams[id]
	if st == nil {
		return c.end()
	}
	st.released = true
	if st.state != stateClosed && c.state != connClosed {
		code := ErrCodeInternal
		if !st.localOpen() {
			code = ErrCodeNo
		}
		c.writeRST(id, code)
		st.transition(stateClosed)
		st.localReset = true
	}
	st.state = stateClosed
	c.maybeRemove(st)
	return c.end()
}

func (c *Conn) sendable(id uint32) (*stream, error) {
	if c.state == connClosed {
		return nil, ErrConnClosed
	}
	st := c.streams[id]
	if st == nil || !st.localOpen() {
		return nil, ErrStreamClosed
	}
	return st, nil
}

// endLocal records that our side of st ended; a completed response earns back one
// unit of the reset budget.
func (c *Conn) endLocal(st *stream) {
	st.endLocal()
	c.resets = min(c.resets+1, c.cfg.MaxResets)
	c.maybeRemove(st)
}

// creditConn owes n connection-window bytes back to the peer and sends WINDOW_UPDATE
// once half the window is owed.
func (c *Conn) creditConn(n int64) {
	c.connCredit += n
	if c.connCredit >= int64(c.cfg.ConnWindow)/2 && c.state != connClosed {
		c.fr.WriteWindowUpdate(0, uint32(c.connCredit))
		c.recvConn += c.connCredit
		c.connCredit = 0
	}
}

func (c *Conn) appendData(id uint32, data []byte, end bool) {
	var flags http2.Flags
	if end {
		flags = http2.FlagDataEndStream
	}
	c.out.b = appendFrameHeader(c.out.b, len(data), http2.FrameData, flags, id)
	c.out.b = append(c.out.b, data...)
}

func (c *Conn) encodeResponse(id uint32, status int, headers asgi.Headers, end bool) {
	c.encodeBlock(id, status, headers, end)
}

// writeStatusOnly sends a response with only :status and END_STREAM (431 and friends).
func (c *Conn) writeStatusOnly(id uint32, status int) {
	c.encodeBlock(id, status, nil, true)
}

// encodeBlock HPACK-encodes :status (when status >= 0) and headers and appends the
// block as HEADERS and CONTINUATION frames.
func (c *Conn) encodeBlock(id uint32, status int, headers asgi.Headers, end bool) {
	c.blk.b = c.blk.b[:0]
	if status >= 0 {
		c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(status)})
	}
	for i := range headers {
		name := lowerName(headers[i].Name)
		if isConnectionHeader(name) {
			continue
		}
		c.enc.WriteField(hpack.HeaderField{Name: name, Value: string(headers[i].Value)})
	}
	c.appendBlock(id, c.blk.b, end)
}

// appendBlock splits a header block into HEADERS and CONTINUATION frames.
func (c *Conn) appendBlock(id uint32, block []byte, end bool) {
	typ := http2.FrameHeaders
	for first := true; first || len(block) > 0; first = false {
		n := min(len(block), int(c.peerMaxFrame))
		var flags http2.Flags
		if n == len(block) {
			flags |= http2.FlagHeadersEndHeaders
		}
		if first && end {
			flags |= http2.FlagHeadersEndStream
		}
		c.out.b = appendFrameHeader(c.out.b, n, typ, flags, id)
		c.out.b = append(c.out.b, block[:n]...)
		block = block[n:]
		typ = http2.FrameContinuation
	}
}

func appendFrameHeader(b []byte, length int, typ http2.FrameType, flags http2.Flags, id uint32) []byte {
	return append(b, byte(length>>16), byte(length>>8), byte(length), byte(typ), byte(flags),
		byte(id>>24)&0x7f, byte(id>>16), byte(id>>8), byte(id))
}

// lowerName returns name lower-cased as a string (one allocation, which the HPACK
// dynamic table may keep).
func lowerName(name []byte) string {
	b := make([]byte, len(name))
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	return string(b)
}

var statusTexts = func() (t [600]string) {
	for i := 100; i < 600; i++ {
		t[i] = string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
	}
	return t
}()

func statusText(status int) string {
	if status >= 100 && status < 600 {
		return statusTexts[status]
	}
	return "500"
}
