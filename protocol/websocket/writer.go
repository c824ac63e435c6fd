package websocket

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// MaxCloseReason is the longest close reason, in bytes, that fits a close frame (a
// control frame holds 125 bytes, 2 of them the code).
const MaxCloseReason = ws.MaxControlFramePayloadSize - 2

// AppendFrameHeader appends the header of an unmasked server frame to dst (RSV1 set
// when compressed). Like every Append function here it is pure and safe for
// concurrent use; the caller owns dst.
func AppendFrameHeader(dst []byte, op ws.OpCode, fin, compressed bool, length int) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	if compressed {
		b0 |= 0x40 // RSV1: Per-Message Compressed (RFC 7692 section 6)
	}
	switch {
	case length <= 125:
		return append(dst, b0, byte(length))
	case length <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, b0, 126), uint16(length))
	}
	return binary.BigEndian.AppendUint64(append(dst, b0, 127), uint64(length))
}

// AppendFrame appends one unmasked frame carrying payload to dst. Safe for concurrent
// use; payload is not retained.
func AppendFrame(dst []byte, op ws.OpCode, fin bool, payload []byte) []byte {
	dst = AppendFrameHeader(dst, op, fin, false, len(payload))
	return append(dst, payload...)
}

// AppendPong appends the pong answering a ping with payload to dst.
func AppendPong(dst, payload []byte) []byte {
	if len(payload) == 0 {
		return append(dst, ws.CompiledPong...)
	}
	return AppendFrame(dst, ws.OpPong, true, payload)
}

// AppendPing appends a ping with payload (at most 125 bytes) to dst.
func AppendPing(dst, payload []byte) []byte {
	if len(payload) == 0 {
		return append(dst, ws.CompiledPing...)
	}
	return AppendFrame(dst, ws.OpPing, true, payload[:min(len(payload), ws.MaxControlFramePayloadSize)])
}

// AppendClose appends a close frame with code and reason to dst. Code 0 means 1000;
// CloseNoStatus (1005) sends an empty close frame. A reason longer than 123 bytes is cut
// at a UTF-8 boundary to fit the frame.
func AppendClose(dst []byte, code int, reason string) []byte {
	switch {
	case code == CloseNoStatus:
		return append(dst, ws.CompiledClose...)
	case code == 0:
		code = CloseNormal
	}
	if reason == "" {
		if c := compiledClose(code); c != nil {
			return append(dst, c...)
		}
	}
	reason = truncateUTF8(reason, MaxCloseReason)
	dst = AppendFrameHeader(dst, ws.OpClose, true, false, 2+len(reason))
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

func compiledClose(code int) []byte {
	switch code {
	case CloseNormal:
		return ws.CompiledCloseNormalClosure
	case CloseGoingAway:
		return ws.CompiledCloseGoingAway
	case CloseProtocolError:
		return ws.CompiledCloseProtocolError
	case CloseInvalidPayload:
		return ws.CompiledCloseInvalidFramePayloadData
	case CloseMessageTooBig:
		return ws.CompiledCloseMessageTooBig
	case CloseInternalError:
		return ws.CompiledCloseInternalServerError
	}
	return nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Writer encodes outbound messages of one connection. It holds no buffers (compressors
// come from a pool for the duration of one message), so it is small and safe for
// concurrent use; the caller orders the bytes it appends.
type Writer struct {
	compress  bool
	level     int
	threshold int
}

// NewWriter returns the Writer of a connection whose handshake negotiated d. cfg must be
// normalized.
func NewWriter(cfg *Config, d Deflate) Writer {
	return Writer{compress: d.Enabled, level: cfg.CompressionLevel, threshold: cfg.CompressionThreshold}
}

// AppendMessage appends one complete message (a single FIN frame) to dst, compressed
// with a pooled compressor when permessage-deflate was negotiated and payload is at
// least the compression threshold. payload is not retained.
func (w Writer) AppendMessage(dst []byte, text bool, payload []byte) ([]byte, error) {
	op := ws.OpBinary
	if text {
		op = ws.OpText
	}
	if !w.Compresses(len(payload)) {
		return AppendFrame(dst, op, true, payload), nil
	}
	// Compress right after a maximal header, then move the data next to the real one.
	start := len(dst)
	dst = append(dst, make([]byte, ws.MaxHeaderSize)...)
	dst, err := compressTo(dst, payload, w.level)
	if err != nil {
		return dst[:start], err
	}
	body := dst[start+ws.MaxHeaderSize:]
	hdr := AppendFrameHeader(dst[start:start], op, true, true, len(body))
	n := copy(dst[start+len(hdr):], body)
	return dst[:start+len(hdr)+n], nil
}

// Compresses reports whether AppendMessage compresses a message of n bytes: callers use
// it to compress outside their locks, since compression is the expensive part.
func (w Writer) Compresses(n int) bool { return w.compress && n >= w.threshold }
