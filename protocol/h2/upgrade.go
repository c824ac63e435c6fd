package h2

import (
	"encoding/base64"
	"encoding/binary"
	"strings"

	"golang.org/x/net/http2"
)

// ErrBadHTTP2Settings is returned by StartUpgrade when the HTTP2-Settings header of an
// "Upgrade: h2c" request is not a valid base64url SETTINGS payload (RFC 7540 3.2.1).
var ErrBadHTTP2Settings = &ConnError{Code: ErrCodeProtocol, Reason: "invalid HTTP2-Settings header"}

// StartUpgrade starts a connection upgraded from HTTP/1.1 with "Upgrade: h2c" (after the
// host wrote the 101 response): it applies the client's HTTP2-Settings header value,
// appends the server preface to dst, and opens stream 1 in the half-closed (remote)
// state for the upgraded request, which had no body. The host runs the application of
// that request on stream 1 itself (no OnRequest). The client preface is still expected
// by Feed.
func (c *Conn) StartUpgrade(dst []byte, http2Settings string) ([]byte, error) {
	c.begin(dst)
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(http2Settings, "="))
	if err != nil || len(payload)%6 != 0 {
		return c.end(), ErrBadHTTP2Settings
	}
	c.writePreface()
	for i := 0; i < len(payload); i += 6 {
		s := http2.Setting{ID: http2.SettingID(binary.BigEndian.Uint16(payload[i:])), Val: binary.BigEndian.Uint32(payload[i+2:])}
		if err := c.applySetting(s); err != nil {
			return c.end(), ErrBadHTTP2Settings
		}
	}
	st := &stream{id: 1, sendWin: c.peerInitial, recvWin: int64(c.cfg.StreamWindow), declaredLen: -1}
	st.transition(stateHalfClosedRemote)
	c.streams[1] = st
	c.maxClient = 1
	return c.end(), nil
}
