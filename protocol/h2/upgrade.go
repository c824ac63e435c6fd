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
// by Feed. An invalid header value returns ErrBadHTTP2Settings with dst unchanged: the
// host then serves the request on HTTP/1.1.
func (c *Conn) StartUpgrade(dst []byte, http2Settings string) ([]byte, error) {
	settings, err := parseSettingsHeader(http2Settings)
	if err != nil {
		return dst, err
	}
	c.begin(dst)
	c.writePreface()
	for _, s := range settings {
		c.applySetting(s) // validated by parseSettingsHeader
	}
	st := &stream{id: 1, sendWin: c.peerInitial, recvWin: int64(c.cfg.StreamWindow), declaredLen: -1}
	st.transition(stateHalfClosedRemote)
	c.streams[1] = st
	c.maxClient = 1
	return c.end(), nil
}

// parseSettingsHeader decodes and validates an HTTP2-Settings header value.
func parseSettingsHeader(v string) ([]http2.Setting, error) {
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil || len(payload)%6 != 0 || len(payload) > 6*100 {
		return nil, ErrBadHTTP2Settings
	}
	settings := make([]http2.Setting, 0, len(payload)/6)
	for i := 0; i < len(payload); i += 6 {
		s := http2.Setting{ID: http2.SettingID(binary.BigEndian.Uint16(payload[i:])), Val: binary.BigEndian.Uint32(payload[i+2:])}
		if s.Valid() != nil {
			return nil, ErrBadHTTP2Settings
		}
		settings = append(settings, s)
	}
	return settings, nil
}
