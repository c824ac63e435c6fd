package h1

import (
	"strings"
	"testing"
)

func TestParseMessages(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "H:GET / E"},
		{"GET with query", "GET /p?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", "H:GET /p?q=1 E"},
		{"incomplete head", "GET / HTTP/1.1\r\nHost: a\r\n", ""},
		{"content-length body", "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "H:POST /u B:hello E"},
		{"content-length partial body", "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello", "H:POST /u B:hello"},
		{"content-length zero", "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "H:POST /u E"},
		{"pipelined GETs", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
			"H:GET /1 E H:GET /2 E H:GET /3 E"},
		{"pipelined POST then GET", "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
			"H:POST /1 B:abc E H:GET /2 E"},
		{"pipelined chunked then GET", "POST /1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
			"H:POST /1 B:abc E H:GET /2 E"},
		{"HEAD", "HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n", "H:HEAD /x E"},
		{"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
			"H:POST / B:hello world E"},
		{"chunked upper hex and leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n0\r\n\r\n",
			"H:POST / B:0123456789 E"},
		{"chunked with extensions", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b;c\r\nhello\r\n3 ; q=\"x\\\"y\" ;z\r\nabc\r\n0;last\r\n\r\n",
			"H:POST / B:helloabc E"},
		{"chunked with trailers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 12\r\nX-Other:  v \r\n\r\n",
			"H:POST / B:hi T:x-sum=12;x-other=v; E"},
		{"chunked incomplete trailers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 12\r\n",
			"H:POST / B:hi"},
		{"chunked list transfer-encoding case", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", "H:POST / E"},
		{"leading empty lines", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "H:GET / E"},
		{"CRLF after body before next request", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
			"H:POST / B:x E H:GET /2 E"},
		{"bare LF head accepted", "GET /lf HTTP/1.1\nHost: a\n\n", "H:GET /lf E"},
		{"mixed line endings accepted", "GET /m HTTP/1.1\r\nHost: a\n\r\n", "H:GET /m E"},
		{"identical duplicate content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", "H:POST / B:ok E"},
		{"identical content-length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nok", "H:POST / B:ok E"},
		{"HTTP/1.0 without host", "GET / HTTP/1.0\r\n\r\n", "H:GET / E"},
		{"OPTIONS asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "H:OPTIONS * E"},
		{"error after good request", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", "H:GET /1 E ERR:missing Host header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := feedAll(t, Config{}, tt.in).render(); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseRequestFields(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want reqInfo
	}{
		{"origin form", "GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\n\r\n", reqInfo{
			Method: "GET", Target: "/a/b?x=1&y", Path: "/a/b", Query: "x=1&y", Host: "example.com:8080", Minor: 1,
			Headers: "host: example.com:8080\nuser-agent: t\n", CL: -1, KeepAlive: true}},
		{"empty query is not nil", "GET /a? HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{
			Method: "GET", Target: "/a?", Path: "/a", Host: "h", Minor: 1, Headers: "host: h\n", CL: -1, KeepAlive: true}},
		{"absolute form", "GET http://Example.org:81/p?q HTTP/1.1\r\nHost: other\r\n\r\n", reqInfo{
			Method: "GET", Target: "http://Example.org:81/p?q", Path: "/p", Query: "q", Host: "Example.org:81", Minor: 1,
			Headers: "host: Example.org:81\n", CL: -1, KeepAlive: true}},
		{"absolute form without path", "GET https://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n", reqInfo{
			Method: "GET", Target: "https://example.org", Path: "/", QueryNil: true, Host: "example.org", Minor: 1,
			Headers: "host: example.org\n", CL: -1, KeepAlive: true}},
		{"absolute form query without path", "GET http://h?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", reqInfo{
			Method: "GET", Target: "http://h?x=1", Path: "/", Query: "x=1", Host: "h", Minor: 1,
			Headers: "host: h\n", CL: -1, KeepAlive: true}},
		{"authority form CONNECT", "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n", reqInfo{
			Method: "CONNECT", Target: "example.org:443", QueryNil: true, Host: "example.org:443", Minor: 1,
			Headers: "host: example.org:443\n", CL: -1, KeepAlive: true}},
		{"names lower-cased, values trimmed", "GET / HTTP/1.1\r\nHOST: h\r\nX-Mixed-Case:   v a l \t\r\nEmpty:\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nx-mixed-case: v a l\nempty: \n", CL: -1, KeepAlive: true}},
		{"HTTP/1.1 connection close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nconnection: Close\n", CL: -1}},
		{"HTTP/1.0 default close", "GET / HTTP/1.0\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Minor: 0, CL: -1}},
		{"HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Minor: 0,
			Headers: "connection: keep-alive\n", CL: -1, KeepAlive: true}},
		{"HTTP/1.0 keep-alive and close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Minor: 0,
			Headers: "connection: keep-alive, close\n", CL: -1}},
		{"HTTP/1.0 ignores expect and upgrade", "GET / HTTP/1.0\r\nExpect: 100-continue\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 1\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Minor: 0,
			Headers: "expect: 100-continue\nconnection: upgrade\nupgrade: websocket\ncontent-length: 1\n", CL: 1}},
		{"expect 100-continue", "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", reqInfo{
			Method: "POST", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nexpect: 100-Continue\ncontent-length: 3\n", CL: 3, KeepAlive: true, Expect100: true, Continue: true}},
		{"expect 100-continue without body", "GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nexpect: 100-continue\n", CL: -1, KeepAlive: true, Expect100: true}},
		{"websocket upgrade", "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", reqInfo{
			Method: "GET", Target: "/ws", Path: "/ws", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nconnection: keep-alive, Upgrade\nupgrade: websocket\n", CL: -1, KeepAlive: true, Upgrade: "websocket"}},
		{"upgrade without connection token", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nupgrade: h2c\n", CL: -1, KeepAlive: true}},
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", reqInfo{
			Method: "POST", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\ntransfer-encoding: chunked\n", CL: -1, Chunked: true, KeepAlive: true}},
		{"long values with tabs and obs-text", "GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\tb c d e f g h i j k l m n o p\r\nX-Obs: \x80\x81\x82\x83\x84\x85\x86\x87\x88\xff\r\n\r\n", reqInfo{
			Method: "GET", Target: "/", Path: "/", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nx-long: a\tb c d e f g h i j k l m n o p\nx-obs: \x80\x81\x82\x83\x84\x85\x86\x87\x88\xff\n", CL: -1, KeepAlive: true}},
		{"obs-text in value", "GET /caf%C3%A9 HTTP/1.1\r\nHost: h\r\nX: \xff\r\n\r\n", reqInfo{
			Method: "GET", Target: "/caf%C3%A9", Path: "/caf%C3%A9", QueryNil: true, Host: "h", Minor: 1,
			Headers: "host: h\nx: \xff\n", CL: -1, KeepAlive: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := feedAll(t, Config{}, tt.in)
			if res.err != nil || len(res.msgs) != 1 {
				t.Fatalf("got %s, want one request", res.render())
			}
			if got := res.msgs[0].req; got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestIsHead(t *testing.T) {
	var p Parser
	p.Init(Config{})
	for _, m := range []string{"HEAD", "GET", "head"} {
		if _, ev, err := p.Parse([]byte(m + " / HTTP/1.1\r\nHost: h\r\n\r\n")); ev != EventHead || err != nil {
			t.Fatalf("%s: %v %v", m, ev, err)
		}
		if got := p.Request().IsHead(); got != (m == "HEAD") {
			t.Fatalf("%s: IsHead = %v", m, got)
		}
		if _, ev, _ := p.Parse(nil); ev != EventEnd {
			t.Fatalf("%s: want EventEnd, got %v", m, ev)
		}
	}
}

func TestBodylessEndWithEmptyData(t *testing.T) {
	var p Parser
	p.Init(Config{})
	head := []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	if n, ev, err := p.Parse(head); n != len(head) || ev != EventHead || err != nil {
		t.Fatalf("head: %d %v %v", n, ev, err)
	}
	if n, ev, err := p.Parse(nil); n != 0 || ev != EventEnd || err != nil {
		t.Fatalf("end: %d %v %v", n, ev, err)
	}
	if n, ev, err := p.Parse(nil); n != 0 || ev != EventNone || err != nil {
		t.Fatalf("idle: %d %v %v", n, ev, err)
	}
}

func TestHeadNotConsumedUntilComplete(t *testing.T) {
	var p Parser
	p.Init(Config{})
	in := []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	for i := 1; i < len(in); i++ {
		if n, ev, err := p.Parse(in[:i]); n != 0 || ev != EventNone || err != nil {
			t.Fatalf("prefix %d: %d %v %v", i, n, ev, err)
		}
	}
	if n, ev, _ := p.Parse(in); n != len(in) || ev != EventHead {
		t.Fatalf("complete: %d %v", n, ev)
	}
}

// TestHeadScanIsLinear feeds a large head one byte at a time and checks, through the
// scan offset, that no byte is searched twice.
func TestHeadScanIsLinear(t *testing.T) {
	var p Parser
	p.Init(Config{})
	in := []byte("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + strings.Repeat("a", 20000) + "\r\n\r\n")
	for i := 1; i < len(in); i++ {
		if _, ev, err := p.Parse(in[:i]); ev != EventNone || err != nil {
			t.Fatalf("prefix %d: %v %v", i, ev, err)
		}
		if p.scan != i {
			t.Fatalf("after %d bytes scan offset is %d: bytes would be rescanned", i, p.scan)
		}
	}
}

func TestContinueExpected(t *testing.T) {
	var p Parser
	p.Init(Config{})
	in := []byte("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
	if _, ev, _ := p.Parse(in); ev != EventHead || !p.ContinueExpected() {
		t.Fatalf("after head: %v, ContinueExpected %v", ev, p.ContinueExpected())
	}
	if n, ev, _ := p.Parse([]byte("3\r\n")); n != 3 || ev != EventNone || !p.ContinueExpected() {
		t.Fatalf("framing only: n=%d %v, ContinueExpected %v", n, ev, p.ContinueExpected())
	}
	if _, ev, _ := p.Parse([]byte("a")); ev != EventBody || p.ContinueExpected() {
		t.Fatalf("after body byte: %v, ContinueExpected %v", ev, p.ContinueExpected())
	}
}

func TestChunkFramingConsumedWithoutEvent(t *testing.T) {
	var p Parser
	p.Init(Config{})
	p.Parse([]byte("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"))
	data := []byte("5;ext=1\r\n")
	if n, ev, err := p.Parse(data); n != len(data) || ev != EventNone || err != nil {
		t.Fatalf("size line: %d %v %v", n, ev, err)
	}
	data = []byte("hello\r\n0\r\n\r\n")
	if n, ev, _ := p.Parse(data); n != 5 || ev != EventBody || string(p.Body()) != "hello" {
		t.Fatalf("data: %d %v %q", n, ev, p.Body())
	}
	if n, ev, _ := p.Parse(data[5:]); n != 7 || ev != EventEnd || p.Trailers() != nil {
		t.Fatalf("end: %d %v %v", n, ev, p.Trailers())
	}
}

func TestHeadersBackingArrayReused(t *testing.T) {
	var p Parser
	p.Init(Config{})
	in := []byte("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n")
	p.Parse(in)
	p.Parse(nil)
	first := &p.Request().Headers[0]
	p.Parse(in)
	if &p.Request().Headers[0] != first {
		t.Fatal("headers backing array was not reused")
	}
}

func TestEventString(t *testing.T) {
	for ev, want := range map[Event]string{EventNone: "EventNone", EventHead: "EventHead", EventBody: "EventBody", EventEnd: "EventEnd", 9: "Event(?)"} {
		if ev.String() != want {
			t.Errorf("%d: %q", ev, ev.String())
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	got := Config{MaxHeaders: 7}.Normalize()
	want := Config{MaxHeadBytes: 64 << 10, MaxRequestLine: 8 << 10, MaxHeaders: 7}
	if got != want {
		t.Fatalf("got %+v", got)
	}
}

func TestIllegalTransitionPanics(t *testing.T) {
	var p Parser
	p.Init(Config{})
	defer func() {
		if r := recover(); r != "h1: illegal parser transition head -> chunk-data" {
			t.Fatalf("recovered %v", r)
		}
	}()
	p.setState(stateChunkData)
}

func TestZeroValueParser(t *testing.T) {
	var p Parser
	if _, ev, err := p.Parse([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n")); ev != EventHead || err != nil {
		t.Fatalf("%v %v", ev, err)
	}
	if p.cfg != (Config{}).Normalize() {
		t.Fatalf("config %+v", p.cfg)
	}
}

func TestRequestMethodHelpers(t *testing.T) {
	r := Request{Method: []byte("GET"), ContentLength: -1}
	if !r.IsGet() || r.IsHead() || r.IsConnect() || r.HasBody() {
		t.Fatalf("GET: %+v", r)
	}
	r = Request{Method: []byte("CONNECT"), ContentLength: 1}
	if r.IsGet() || !r.IsConnect() || !r.HasBody() {
		t.Fatalf("CONNECT: %+v", r)
	}
	if r := (Request{Chunked: true, ContentLength: -1}); !r.HasBody() {
		t.Fatal("chunked request without body")
	}
}

// TestSkipBody: body bytes the caller took past the parser count toward the
// Content-Length, and the message ends where it would have.
func TestSkipBody(t *testing.T) {
	var p Parser
	head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
	data := []byte(head + "0123" + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	n, ev, err := p.Parse(data)
	if err != nil || ev != EventHead || n != len(head) {
		t.Fatalf("head: n %d ev %v err %v", n, ev, err)
	}
	if got := p.BodyRemaining(); got != 10 {
		t.Fatalf("remaining %d, want 10", got)
	}
	data = data[n:]
	n, ev, _ = p.Parse(data[:4])
	if ev != EventBody || n != 4 || p.BodyRemaining() != 6 {
		t.Fatalf("body: n %d ev %v remaining %d", n, ev, p.BodyRemaining())
	}
	p.SkipBody(6) // "456789", read by the caller
	if p.BodyRemaining() != 0 {
		t.Fatalf("remaining %d after skipping the rest", p.BodyRemaining())
	}
	if n, ev, _ = p.Parse(nil); ev != EventEnd || n != 0 {
		t.Fatalf("end: n %d ev %v", n, ev)
	}
	if _, ev, err = p.Parse(data[4:]); ev != EventHead || err != nil || string(p.Request().Path) != "/next" {
		t.Fatalf("next request: ev %v err %v path %q", ev, err, p.Request().Path)
	}
	if p.BodyRemaining() != 0 {
		t.Fatal("a bodiless request has body bytes remaining")
	}
}
