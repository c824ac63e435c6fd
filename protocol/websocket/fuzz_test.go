package websocket

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// FuzzReader checks that arbitrary input never panics, that Feed never over-consumes,
// and that the events do not depend on how the input is split.
func FuzzReader(f *testing.F) {
	for _, tc := range frameCases(f) {
		f.Add(tc.in, tc.deflate.Enabled, uint64(1))
	}
	f.Add(fragmentedMessage(4096, 64), false, uint64(2)) // many small fragments
	f.Fuzz(func(t *testing.T, in []byte, deflate bool, seed uint64) {
		if len(in) > 1<<16 {
			return
		}
		cfg := Config{MaxMessageSize: 1 << 16}.Normalize()
		d := Deflate{Enabled: deflate}
		whole, wholeCode := drive(t, NewReader(&cfg, d), [][]byte{bytes.Clone(in)})
		rng := rand.New(rand.NewPCG(seed, 7))
		chunks := feedModes[2].split(rng, bytes.Clone(in))
		split, splitCode := drive(t, NewReader(&cfg, d), chunks)
		if wholeCode != splitCode || !reflect.DeepEqual(whole, split) {
			t.Fatalf("whole: %v code %d; split: %v code %d", whole, wholeCode, split, splitCode)
		}
		for _, ev := range whole {
			if ev.Kind == EventMessage && ev.Text && !utf8Valid(ev.Data) {
				t.Fatalf("invalid UTF-8 text delivered: %q", ev.Data)
			}
		}
	})
}

func utf8Valid(s string) bool { return validUTF8([]byte(s)) }

// FuzzUTF8Stream compares the incremental validator with unicode/utf8 on every split.
func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("κόσμε\xed\xa0\x80"), uint8(3))
	f.Add([]byte("\xf0\x90\x80\x80"), uint8(1))
	f.Fuzz(func(t *testing.T, p []byte, step uint8) {
		n := int(step%8) + 1
		var u utf8Stream
		ok := true
		for i := 0; i < len(p) && ok; i += n {
			ok = u.write(p[i:min(i+n, len(p))])
		}
		ok = ok && u.final()
		if want := validUTF8(p); ok != want {
			t.Fatalf("stream says %v, utf8.Valid says %v for %q", ok, want, p)
		}
	})
}

// FuzzHandshake parses arbitrary header blocks: it must never panic, and an accepted
// handshake must produce a well-formed 101 response.
func FuzzHandshake(f *testing.F) {
	f.Add("GET", "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\nSec-WebSocket-Protocol: a, b")
	f.Add("GET", "upgrade: websocket\nconnection: upgrade\nsec-websocket-version: 13\nsec-websocket-key: AAAAAAAAAAAAAAAAAAAAAA==\nsec-websocket-extensions: permessage-deflate; server_max_window_bits=8, permessage-deflate; client_no_context_takeover\norigin: http://x")
	f.Fuzz(func(t *testing.T, method, raw string) {
		var h asgi.Headers
		for _, line := range strings.Split(raw, "\n") {
			name, value, _ := strings.Cut(line, ":")
			h = append(h, asgi.HeaderField{Name: []byte(strings.TrimSpace(name)), Value: []byte(strings.TrimSpace(value))})
		}
		cfg := Config{AllowedOrigins: []string{"http://x"}}.Normalize()
		hs, herr := ParseHandshake(method, 1, h, &cfg)
		if herr != nil {
			if herr.Status != 400 && herr.Status != 403 && herr.Status != 426 {
				t.Fatalf("status %d", herr.Status)
			}
			_ = AppendHandshakeError(nil, herr)
			return
		}
		proto := ""
		if len(hs.Subprotocols) > 0 {
			proto = hs.Subprotocols[0]
		}
		out, err := AppendAccept(nil, &hs, proto, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte("HTTP/1.1 101 ")) || !bytes.HasSuffix(out, []byte("\r\n\r\n")) || bytes.Count(out, []byte("\r\n\r\n")) != 1 {
			t.Fatalf("malformed response %q", out)
		}
		// The same headers as an HTTP/2 extended CONNECT (RFC 8441): no key needed,
		// and the accepted fields must be valid header fields.
		hs2, herr := ParseExtendedConnect(h, &cfg)
		if herr != nil {
			t.Fatalf("HTTP/1.1 accepts what HTTP/2 refuses: %v", herr)
		}
		fields, err := AcceptFields(nil, &hs2, proto, nil)
		if err != nil || asgi.ValidateHeaders(fields) != nil {
			t.Fatalf("accept fields %q: %v", fields, err)
		}
	})
}

func validUTF8(p []byte) bool { return utf8.Valid(p) }
