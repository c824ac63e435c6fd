package h1

import (
	"bufio"
	"bytes"
	"net/http"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

func benchParse(b *testing.B, in []byte, pipeline int) {
	in = bytes.Repeat(in, pipeline)
	p, buf := warmInput(in)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, in)
		parseAll(p, buf)
	}
}

func BenchmarkParseGET(b *testing.B)            { benchParse(b, getRequest, 1) }
func BenchmarkParseGETPipelined16(b *testing.B) { benchParse(b, getRequest, 16) }
func BenchmarkParsePOST(b *testing.B)           { benchParse(b, postRequest, 1) }
func BenchmarkParseChunked(b *testing.B)        { benchParse(b, chunkedRequest, 1) }

// BenchmarkParseGETByteByByte measures the resumed head scan: the head arrives one byte
// per Parse call.
func BenchmarkParseGETByteByByte(b *testing.B) {
	p, buf := warmInput(getRequest)
	b.SetBytes(int64(len(getRequest)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, getRequest)
		for i := 1; i <= len(buf); i++ {
			if _, ev, _ := p.Parse(buf[:i]); ev == EventHead {
				p.Parse(nil)
			}
		}
	}
}

func BenchmarkResponseFixed(b *testing.B) {
	headers := asgi.H("Content-Type", "text/plain")
	body := []byte("Hello, World!")
	var r Response
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		r.Begin(1, false, true, 200, headers, false)
		dst, _ = r.AppendBody(dst[:0], body, false)
	}
}

func BenchmarkResponseChunked(b *testing.B) {
	headers := asgi.H("Content-Type", "text/event-stream")
	body := []byte("data: tick\n\n")
	var r Response
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		r.Begin(1, false, true, 200, headers, false)
		dst, _ = r.AppendBody(dst[:0], body, true)
		dst, _ = r.AppendBody(dst, body, true)
		dst, _ = r.AppendBody(dst, nil, false)
	}
}

// BenchmarkPeerNetHTTPReadRequest is the peer twin of BenchmarkParseGET: net/http's
// request reader on the same bytes, for a ratio measured in the same run.
func BenchmarkPeerNetHTTPReadRequest(b *testing.B) {
	rd := bytes.NewReader(getRequest)
	br := bufio.NewReader(rd)
	b.SetBytes(int64(len(getRequest)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(getRequest)
		br.Reset(rd)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}
