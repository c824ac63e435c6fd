package websocket

import (
	"bytes"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

func upgradeHeaders(extra ...string) asgi.Headers {
	h := asgi.H("host", "example.com", "upgrade", "websocket", "connection", "keep-alive, Upgrade",
		"sec-websocket-key", sampleKey, "sec-websocket-version", "13")
	return append(h, asgi.H(extra...)...)
}

func without(h asgi.Headers, name string) asgi.Headers {
	var out asgi.Headers
	for _, f := range h {
		if !asgi.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	return out
}

func TestParseHandshake(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		minor   int
		headers asgi.Headers
		cfg     Config
		status  int // 0: accepted
		protos  []string
		deflate Deflate
	}{
		{name: "valid", headers: upgradeHeaders()},
		{name: "POST", method: "POST", headers: upgradeHeaders(), status: 400},
		{name: "HTTP/1.0", minor: -1, headers: upgradeHeaders(), status: 400},
		{name: "no connection upgrade", headers: without(upgradeHeaders(), "connection"), status: 400},
		{name: "version 8", headers: append(without(upgradeHeaders(), "sec-websocket-version"), asgi.H("sec-websocket-version", "8")...), status: 426},
		{name: "no version", headers: without(upgradeHeaders(), "sec-websocket-version"), status: 426},
		{name: "no key", headers: without(upgradeHeaders(), "sec-websocket-key"), status: 400},
		{name: "short key", headers: append(without(upgradeHeaders(), "sec-websocket-key"), asgi.H("sec-websocket-key", "dGhl")...), status: 400},
		{name: "key not base64", headers: append(without(upgradeHeaders(), "sec-websocket-key"), asgi.H("sec-websocket-key", "!!!!!!!!!!!!!!!!!!!!!!==")...), status: 400},
		{name: "origin allowed", headers: upgradeHeaders("origin", "https://Example.com"), cfg: Config{AllowedOrigins: []string{"https://example.com"}}},
		{name: "origin forbidden", headers: upgradeHeaders("origin", "https://evil.example"), cfg: Config{AllowedOrigins: []string{"https://example.com"}}, status: 403},
		{name: "no origin with allow list", headers: upgradeHeaders(), cfg: Config{AllowedOrigins: []string{"https://example.com"}}},
		{name: "subprotocols", headers: upgradeHeaders("sec-websocket-protocol", "chat, superchat", "sec-websocket-protocol", "v2"), protos: []string{"chat", "superchat", "v2"}},
		{name: "deflate", headers: upgradeHeaders("sec-websocket-extensions", "permessage-deflate; client_max_window_bits"), deflate: Deflate{Enabled: true}},
		{name: "deflate disabled", headers: upgradeHeaders("sec-websocket-extensions", "permessage-deflate"), cfg: Config{DisableCompression: true}},
		{name: "deflate small server window declined, next offer taken", headers: upgradeHeaders("sec-websocket-extensions", "permessage-deflate; server_max_window_bits=10, permessage-deflate"), deflate: Deflate{Enabled: true}},
		{name: "deflate bad parameter declined", headers: upgradeHeaders("sec-websocket-extensions", "permessage-deflate; foo=1"), deflate: Deflate{}},
		{name: "unknown extension", headers: upgradeHeaders("sec-websocket-extensions", "x-webkit-deflate-frame"), deflate: Deflate{}},
		{name: "context takeover allowed", headers: upgradeHeaders("sec-websocket-extensions", "permessage-deflate"), cfg: Config{ClientContextTakeover: true}, deflate: Deflate{Enabled: true, ClientContextTakeover: true}},
		{name: "context takeover refused by client", headers: upgradeHeaders("sec-websocket-extensions", "permessage-deflate; client_no_context_takeover"), cfg: Config{ClientContextTakeover: true}, deflate: Deflate{Enabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			cfg := tt.cfg.Normalize()
			hs, herr := ParseHandshake(method, tt.minor+1, tt.headers, &cfg)
			if tt.status != 0 {
				if herr == nil || herr.Status != tt.status {
					t.Fatalf("got %v, want status %d", herr, tt.status)
				}
				return
			}
			if herr != nil {
				t.Fatalf("refused: %v", herr)
			}
			if string(hs.Key[:]) != sampleKey || strings.Join(hs.Subprotocols, ",") != strings.Join(tt.protos, ",") || hs.Deflate != tt.deflate {
				t.Fatalf("handshake %+v", hs)
			}
		})
	}
}

func TestIsUpgrade(t *testing.T) {
	if !IsUpgrade(asgi.H("Upgrade", "WebSocket")) || !IsUpgrade(asgi.H("upgrade", "h2c, websocket")) {
		t.Fatal("upgrade not detected")
	}
	if IsUpgrade(asgi.H("upgrade", "h2c")) || IsUpgrade(nil) {
		t.Fatal("false upgrade")
	}
}

func TestAcceptKeyRFCExample(t *testing.T) {
	var key [keyLen]byte
	copy(key[:], sampleKey)
	if got := AcceptKey(key); string(got[:]) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept %s", got)
	}
}

func TestAppendAccept(t *testing.T) {
	cfg := Config{}.Normalize()
	hs, _ := ParseHandshake("GET", 1, upgradeHeaders("sec-websocket-protocol", "chat", "sec-websocket-extensions", "permessage-deflate"), &cfg)
	out, err := AppendAccept(nil, &hs, "chat", asgi.H("x-app", "1", "Sec-WebSocket-Accept", "forged", "upgrade", "evil"))
	if err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n" +
		"x-app: 1\r\n\r\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := AppendAccept(nil, &hs, "other", nil); err != ErrSubprotocol {
		t.Fatalf("unoffered subprotocol: %v", err)
	}
}

func TestAppendHandshakeError(t *testing.T) {
	out := string(AppendHandshakeError(nil, errBadVersion))
	for _, want := range []string{"HTTP/1.1 426 Upgrade Required\r\n", "Sec-WebSocket-Version: 13\r\n", "Connection: close\r\n", "\r\n\r\nunsupported WebSocket version\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
}

func TestDenialResponse(t *testing.T) {
	head, chunked := AppendDenialHead(nil, 401, asgi.H("content-type", "text/plain", "connection", "keep-alive"))
	body := AppendDenialBody(nil, []byte("no"), true, chunked)
	body = AppendDenialBody(body, []byte("pe"), false, chunked)
	got := string(head) + string(body)
	want := "HTTP/1.1 401 Unauthorized\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nno\r\n2\r\npe\r\n0\r\n\r\n"
	if got != want {
		t.Fatalf("got %q", got)
	}
	head, chunked = AppendDenialHead(nil, 403, asgi.H("content-length", "4"))
	if chunked || !bytes.HasPrefix(head, []byte("HTTP/1.1 403 Forbidden\r\ncontent-length: 4\r\n")) {
		t.Fatalf("head %q chunked %v", head, chunked)
	}
	if b := AppendDenialBody(nil, []byte("nope"), false, false); string(b) != "nope" {
		t.Fatalf("body %q", b)
	}
}

func TestParseExtendedConnect(t *testing.T) {
	cfg := (&Config{AllowedOrigins: []string{"https://ok.example"}}).Normalize()
	hs, err := ParseExtendedConnect(asgi.H("sec-websocket-version", "13", "sec-websocket-protocol", "chat, superchat",
		"sec-websocket-extensions", "permessage-deflate; client_max_window_bits", "origin", "https://ok.example"), &cfg)
	if err != nil || len(hs.Subprotocols) != 2 || !hs.Deflate.Enabled || hs.Key != [keyLen]byte{} {
		t.Fatalf("hs=%+v err=%v", hs, err)
	}
	fields, ferr := AcceptFields(nil, &hs, "chat", asgi.H("x-extra", "1", "sec-websocket-protocol", "dup", "sec-websocket-accept", "no"))
	if ferr != nil || len(fields) != 3 || string(fields[0].Value) != "chat" ||
		string(fields[1].Name) != "sec-websocket-extensions" || string(fields[2].Name) != "x-extra" {
		t.Fatalf("accept fields %q %v", fields, ferr)
	}
	if _, ferr := AcceptFields(nil, &hs, "other", nil); ferr != ErrSubprotocol {
		t.Fatalf("unoffered subprotocol: %v", ferr)
	}
	if _, err := ParseExtendedConnect(asgi.H("sec-websocket-version", "8"), &cfg); err == nil || err.Status != 426 {
		t.Fatalf("version 8: %v", err)
	}
	if _, err := ParseExtendedConnect(asgi.H("sec-websocket-version", "13", "origin", "https://evil.example"), &cfg); err == nil || err.Status != 403 {
		t.Fatalf("bad origin: %v", err)
	}
}
