package h1_test

import (
	"fmt"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/h1"
)

// Two pipelined requests parsed as the event loop does: discard what Parse consumed and
// call again after every event.
func ExampleParser() {
	var p h1.Parser
	p.Init(h1.Config{})
	in := []byte("POST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello" +
		"GET /bye HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
	for {
		n, ev, err := p.Parse(in)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		in = in[n:]
		switch ev {
		case h1.EventHead:
			r := p.Request()
			fmt.Printf("head %s %s keep-alive=%v\n", r.Method, r.Path, r.KeepAlive)
		case h1.EventBody:
			fmt.Printf("body %q\n", p.Body())
		case h1.EventEnd:
			fmt.Println("end")
		case h1.EventNone:
			if n == 0 {
				return
			}
		}
	}
	// Output:
	// head POST /echo keep-alive=true
	// body "hello"
	// end
	// head GET /bye keep-alive=false
	// end
}

// A streamed response on HTTP/1.1 is chunked; the Date line is left out here.
func ExampleResponse() {
	var r h1.Response
	if err := r.Begin(1, false, true, 200, asgi.H("content-type", "text/plain", "date", "x"), false); err != nil {
		panic(err)
	}
	out, _ := r.AppendBody(nil, []byte("hello "), true)
	out, _ = r.AppendBody(out, []byte("world"), false)
	fmt.Printf("%q\nkeep-alive=%v done=%v\n", out, r.KeepAlive(), r.Done())
	// Output:
	// "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ndate: x\r\nTransfer-Encoding: chunked\r\nServer: asgo\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"
	// keep-alive=true done=true
}
