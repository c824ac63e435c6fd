package h1

import (
	"fmt"
	"github.com/asgo-dev/asgo/protocol/internal/feedtest"
	"math/rand/v2"
	"strings"
	"testing"
)

// reqInfo is a copy of a Request taken at EventHead, comparable with ==.
type reqInfo struct {
	Method, Target, Path, Query, Host string
	QueryNil                          bool
	Minor                             int
	Headers                           string // "name: value\n" per field
	CL                                int64
	Chunked, KeepAlive, Expect100     bool
	Continue                          bool // ContinueExpected right after EventHead
	Upgrade                           string
}

// message is what one request produced.
type message struct {
	req      reqInfo
	body     string
	trailers string
	ended    bool
}

// result is everything a parser produced from one input.
type result struct {
	msgs     []message
	err      error
	leftover int // bytes never consumed
}

func snapshot(p *Parser) reqInfo {
	r := p.Request()
	var h strings.Builder
	for _, f := range r.Headers {
		fmt.Fprintf(&h, "%s: %s\n", f.Name, f.Value)
	}
	return reqInfo{
		Method: string(r.Method), Target: string(r.Target), Path: string(r.Path),
		Query: string(r.Query), QueryNil: r.Query == nil, Host: string(r.Host),
		Minor: r.ProtoMinor, Headers: h.String(), CL: r.ContentLength, Chunked: r.Chunked,
		KeepAlive: r.KeepAlive, Expect100: r.Expect100, Continue: p.ContinueExpected(),
		Upgrade: string(r.Upgrade),
	}
}

// feed runs input through a fresh parser the way the event loop does: it appends the
// next piece (size from next) to the unconsumed tail, moving the tail to a fresh buffer
// every few steps so a slice the parser kept from an earlier call would be caught, and
// calls Parse until it needs more input.
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
		res.msgs = append(res.msgs, message{req: snapshot(p)})
	case EventBody:
		m := &res.msgs[len(res.msgs)-1]
		if len(p.Body()) == 0 {
			panic("EventBody without bytes")
		}
		m.body += string(p.Body())
	case EventEnd:
		m := &res.msgs[len(res.msgs)-1]
		m.ended = true
		for _, f := range p.Trailers() {
			m.trailers += fmt.Sprintf("%s=%s;", f.Name, f.Value)
		}
	}
}

// render is a compact, comparable form of a result: "H:GET /a B:body T:x=y; E" per
// message, then "ERR:<reason>".
func (r result) render() string {
	var parts []string
	for _, m := range r.msgs {
		parts = append(parts, "H:"+m.req.Method+" "+m.req.Target)
		if m.body != "" {
			parts = append(parts, "B:"+m.body)
		}
		if m.trailers != "" {
			parts = append(parts, "T:"+m.trailers)
		}
		if m.ended {
			parts = append(parts, "E")
		}
	}
	if r.err != nil {
		parts = append(parts, "ERR:"+r.err.(*Error).Reason)
	}
	return strings.Join(parts, " ")
}

// feedMode is one way of cutting the input.
type feedMode struct {
	name string
	next func(seed uint64) func(int) int
}

var feedModes = []feedMode{
	{"whole", func(uint64) func(int) int { return func(n int) int { return n } }},
	{"bytewise", func(uint64) func(int) int { return func(int) int { return 1 } }},
	{"random", func(seed uint64) func(int) int {
		r := rand.New(rand.NewPCG(seed, 7))
		return func(n int) int { return 1 + r.IntN(min(n, 17)) }
	}},
}

// feedAll runs input in every mode (random with several seeds), fails the test if the
// modes disagree, and returns the whole-input result.
func feedAll(t *testing.T, cfg Config, input string) result {
	t.Helper()
	whole := feed(cfg, []byte(input), feedModes[0].next(0))
	for _, m := range feedModes[1:] {
		for seed := uint64(1); seed <= 4; seed++ {
			got := feed(cfg, []byte(input), m.next(seed))
			if !sameResult(got, whole) {
				t.Fatalf("%s feed (seed %d) differs from whole feed:\n got %s (%+v)\nwant %s (%+v)",
					m.name, seed, got.render(), got, whole.render(), whole)
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
