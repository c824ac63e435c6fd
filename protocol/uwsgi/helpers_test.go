package uwsgi

import (
	"encoding/binary"
	"fmt"
	"github.com/asgo-dev/asgo/protocol/internal/feedtest"
	"math/rand/v2"
	"strings"
	"testing"
)

// packet builds a uwsgi packet: header, vars from alternating key, value strings, body.
func packet(mod1, mod2 byte, body string, pairs ...string) []byte {
	var vars []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(pairs[i])))
		vars = append(vars, pairs[i]...)
		vars = binary.LittleEndian.AppendUint16(vars, uint16(len(pairs[i+1])))
		vars = append(vars, pairs[i+1]...)
	}
	out := []byte{mod1, 0, 0, mod2}
	binary.LittleEndian.PutUint16(out[1:3], uint16(len(vars)))
	return append(append(out, vars...), body...)
}

// nginxVars are the vars nginx 1.22 sends for
//
//	POST /app/echo%20me?x=1&y=2 HTTP/1.1
//	Host: example.com:8080
//	User-Agent: curl/7.88.1
//	Content-Type: text/plain
//	Content-Length: 11
//	X-Forwarded-For: 203.0.113.9
//	Cookie: a=1
//	Cookie: b=2
//
// with Debian's uwsgi_params, the location's `uwsgi_param SCRIPT_NAME /app;` and the
// request headers as HTTP_* vars (nginx's ngx_http_uwsgi_create_request: params first,
// then one var per header, repeated headers joined). CONTENT_LENGTH is the body's.
var nginxVars = []string{
	"QUERY_STRING", "x=1&y=2",
	"REQUEST_METHOD", "POST",
	"CONTENT_TYPE", "text/plain",
	"CONTENT_LENGTH", "11",
	"REQUEST_URI", "/app/echo%20me?x=1&y=2",
	"PATH_INFO", "/app/echo me",
	"DOCUMENT_ROOT", "/usr/share/nginx/html",
	"SERVER_PROTOCOL", "HTTP/1.1",
	"REQUEST_SCHEME", "http",
	"REMOTE_ADDR", "192.0.2.10",
	"REMOTE_PORT", "51234",
	"SERVER_PORT", "8080",
	"SERVER_NAME", "example.com",
	"HTTP_HOST", "example.com",
	"SCRIPT_NAME", "/app",
	"HTTP_USER_AGENT", "curl/7.88.1",
	"HTTP_CONTENT_TYPE", "text/plain",
	"HTTP_CONTENT_LENGTH", "11",
	"HTTP_X_FORWARDED_FOR", "203.0.113.9",
	"HTTP_COOKIE", "a=1; b=2",
}

func nginxPacket() []byte { return packet(0, 0, "hello world", nginxVars...) }

// message is what one packet produced.
type message struct {
	vars  string // "K=V\n" per var
	body  string
	ended bool
}

// result is everything a parser produced from one input.
type result struct {
	msgs     []message
	err      error
	leftover int
}

func snapshot(p *Parser) string {
	var b strings.Builder
	for _, v := range p.Request().Vars {
		fmt.Fprintf(&b, "%s=%s\n", v.Key, v.Value)
	}
	return b.String()
}

// feed runs input through a fresh parser the way the event loop does, appending the
// next piece (size from next) to the unconsumed tail and moving the tail to a fresh
// buffer every few steps, so a slice kept from an earlier call would be caught.
func feed(cfg Config, input []byte, next func(remaining int) int) result {
	var p Parser
	p.Init(cfg)
	var res result
	res.leftover, res.err = feedtest.Feed(input, next, func(buf []byte) (int, bool, error) {
		n, ev, err := p.Parse(buf)
		if err == nil {
			record(&p, ev, &res)
		}
		return n, ev == EventNone, err
	})
	return res
}

func record(p *Parser, ev Event, res *result) {
	switch ev {
	case EventHead:
		res.msgs = append(res.msgs, message{vars: snapshot(p)})
	case EventBody:
		if len(p.Body()) == 0 {
			panic("EventBody without bytes")
		}
		res.msgs[len(res.msgs)-1].body += string(p.Body())
	case EventEnd:
		res.msgs[len(res.msgs)-1].ended = true
	}
}

type feedMode struct {
	name string
	next func(seed uint64) func(int) int
}

var feedModes = []feedMode{
	{"whole", func(uint64) func(int) int { return func(n int) int { return n } }},
	{"bytewise", func(uint64) func(int) int { return func(int) int { return 1 } }},
	{"random", func(seed uint64) func(int) int {
		r := rand.New(rand.NewPCG(seed, 7))
		return func(n int) int { return 1 + r.IntN(min(n, 23)) }
	}},
}

// feedAll runs input in every mode, fails the test if they disagree, and returns the
// whole-input result.
func feedAll(t testing.TB, cfg Config, input []byte) result {
	t.Helper()
	whole := feed(cfg, input, feedModes[0].next(0))
	for _, m := range feedModes[1:] {
		for seed := uint64(1); seed <= 4; seed++ {
			got := feed(cfg, input, m.next(seed))
			if !sameResult(got, whole) {
				t.Fatalf("%s feed (seed %d) differs from whole feed:\n got %+v\nwant %+v", m.name, seed, got, whole)
			}
			if m.name == "bytewise" {
				break
			}
		}
	}
	return whole
}

func sameResult(a, b result) bool {
	if a.err != b.err || a.err == nil && a.leftover != b.leftover || len(a.msgs) != len(b.msgs) {
		return false
	}
	for i := range a.msgs {
		if a.msgs[i] != b.msgs[i] {
			return false
		}
	}
	return true
}
