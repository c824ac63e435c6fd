package h1

import (
	"bytes"
	"testing"
)

// fuzzSeeds are representative inputs; testdata/fuzz/FuzzParse holds more, including
// any crasher found so far.
var fuzzSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2?q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\\\"c\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
	"\r\nGET http://h:1/p?q HTTP/1.1\nHost: h\n\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
	"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
	"\n\r\n\nGET / HTTP/1.2\r\nHost: a\r\n\r\n",
	"GET / http/1.1\r\nHost: a\r\n\r\nGET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello",
	"GET http://other.example/scope HTTP/1.1\r\nHost: x\r\n\r\nGET http://o:1 HTTP/1.0\r\n\r\n",
}

// FuzzParse checks that no input panics the parser or makes it consume more than it
// was given, and that feeding an input whole, byte by byte and in random chunks gives
// the same requests, bodies, trailers and error.
func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), uint64(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		cfg := Config{MaxHeadBytes: 2048, MaxRequestLine: 512, MaxHeaders: 16}
		whole := feed(cfg, data, feedModes[0].next(0))
		modes := feedModes[1:]
		if len(data) > 4096 {
			modes = feedModes[2:] // bytewise is quadratic in the test helper
		}
		for _, m := range modes {
			got := feed(cfg, data, m.next(seed))
			if !sameResult(got, whole) {
				t.Fatalf("%s feed differs from whole feed:\n got %s\nwant %s", m.name, got.render(), whole.render())
			}
		}
		checkResult(t, whole)
	})
}

// checkResult checks invariants every successful parse must hold.
func checkResult(t *testing.T, res result) {
	for i, m := range res.msgs {
		r := m.req
		if m.ended && r.CL >= 0 && int64(len(m.body)) != r.CL {
			t.Fatalf("message %d: body %d bytes, Content-Length %d", i, len(m.body), r.CL)
		}
		if !m.ended && i != len(res.msgs)-1 {
			t.Fatalf("message %d did not end but another followed", i)
		}
		if r.Chunked && r.CL != -1 {
			t.Fatalf("message %d: chunked with Content-Length %d", i, r.CL)
		}
		if r.Minor == 1 && r.Host == "" && !bytes.Contains([]byte(r.Headers), []byte("host: \n")) {
			t.Fatalf("message %d: HTTP/1.1 without Host accepted", i)
		}
		if r.Method != "CONNECT" && r.Path == "" {
			t.Fatalf("message %d: empty path", i)
		}
		for _, c := range []byte(r.Target) {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("message %d: target %q holds byte %#x", i, r.Target, c)
			}
		}
		lengths, hosts := 0, 0
		for _, line := range bytes.Split([]byte(r.Headers), []byte("\n")) {
			name, value, ok := bytes.Cut(line, []byte(": "))
			if ok && !bytes.Equal(name, bytes.ToLower(name)) {
				t.Fatalf("message %d: header name %q not lower-cased", i, name)
			}
			switch string(name) {
			case "content-length":
				lengths++
				if n, ok := parseDecimal(value); !ok || n != r.CL || lengths > 1 {
					t.Fatalf("message %d: content-length field %q (%d of them), Content-Length %d", i, value, lengths, r.CL)
				}
			case "host":
				hosts++
				if r.Method != "CONNECT" && string(value) != r.Host {
					t.Fatalf("message %d: host field %q, Host %q", i, value, r.Host)
				}
			}
		}
		if r.Host != "" && r.Method != "CONNECT" && hosts != 1 {
			t.Fatalf("message %d: Host %q with %d host fields", i, r.Host, hosts)
		}
	}
}
