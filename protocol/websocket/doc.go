// Package websocket implements the WebSocket protocol (RFC 6455) with the
// permessage-deflate extension (RFC 7692) without doing any I/O: bytes in, events out.
//
// It owns:
//
//   - the server handshake: detection of an upgrade request, validation of version, key
//     and origin (ParseHandshake), negotiation of subprotocols and permessage-deflate, and
//     the 101 response (AppendAccept), which ASGI sends only after websocket.accept;
//   - the inbound frame state machine (Reader): frames are consumed incrementally,
//     unmasked as their payload arrives, fragments reassembled, control frames accepted
//     between fragments, UTF-8 of text messages validated across fragments, and every
//     protocol violation reported as a *CloseError carrying the close code to send
//     (1002, 1007 or 1009);
//   - outbound framing (AppendFrame, AppendClose, AppendMessage) with pooled
//     compressors, so that idle connections hold no compressor.
//
// Frame encoding, masking (ws.Cipher with an offset), header checks and close codes come
// from github.com/gobwas/ws; permessage-deflate parameters and the PMCE framing of
// compressed data come from github.com/gobwas/ws/wsflate. gobwas/ws has no message or
// decompressed size limit: this package enforces both (Config.MaxMessageSize).
//
// Concurrency: a Reader belongs to one connection and is used by the event loop goroutine
// only. The Append* functions and ParseHandshake are pure and safe for concurrent use.
// Nothing here starts goroutines, reads clocks or touches sockets; timers (keepalive,
// close timeout) are the caller's and their durations are only carried in Config.
package websocket
