package ipfilter

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestFilterRule(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		allowed []string
		denied  []string
	}{
		{"empty admits all", Config{}, []string{"1.2.3.4", "::1"}, nil},
		{"deny v4 cidr", Config{Deny: []string{"10.0.0.0/8"}},
			[]string{"11.0.0.1", "9.255.255.255", "::1"}, []string{"10.0.0.0", "10.255.255.255", "::ffff:10.1.2.3"}},
		{"allow list refuses the rest", Config{Allow: []string{"192.168.1.0/24", "2001:db8::/32"}},
			[]string{"192.168.1.7", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
			[]string{"192.168.2.1", "2001:db9::", "127.0.0.1", ""}},
		{"deny wins over allow", Config{Allow: []string{"10.0.0.0/8"}, Deny: []string{"10.1.0.0/16", "10.2.3.4"}},
			[]string{"10.0.0.1", "10.2.3.5"}, []string{"10.1.9.9", "10.2.3.4", "11.0.0.0"}},
		{"single v6 address", Config{Deny: []string{"::1"}}, []string{"::2", "127.0.0.1"}, []string{"::1"}},
		{"mapped prefix is v4", Config{Deny: []string{"::ffff:10.0.0.0/104"}}, []string{"11.0.0.0"}, []string{"10.9.9.9"}},
		{"host bits ignored", Config{Deny: []string{"10.1.2.3/8"}}, nil, []string{"10.200.0.1"}},
		{"everything v6", Config{Deny: []string{"::/0"}}, []string{"1.1.1.1"}, []string{"::", "ffff::1"}},
		{"everything v4", Config{Deny: []string{"0.0.0.0/0"}}, []string{"::1"}, []string{"0.0.0.0", "255.255.255.255"}},
		{"no client with deny only", Config{Deny: []string{"10.0.0.0/8"}}, []string{""}, nil},
		{"unix socket client", Config{Allow: []string{"0.0.0.0/0", "::/0"}}, nil, []string{"/tmp/sock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewFilter(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []bool{true, false} {
				list := tt.allowed
				if !want {
					list = tt.denied
				}
				for _, h := range list {
					var c *asgi.Addr
					if h != "" {
						c = &asgi.Addr{Host: h, Port: 1}
					}
					if got := f.AllowedClient(c); got != want {
						t.Errorf("%q: allowed %v, want %v", h, got, want)
					}
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, e := range []string{"", "10.0.0", "10.0.0.0/33", "fe80::1%eth0", "::/129", "host.example"} {
		if _, err := NewFilter(Config{Deny: []string{e}}); err == nil {
			t.Errorf("%q parsed", e)
		}
	}
}

func TestMerge(t *testing.T) {
	s, err := ParseSet([]string{"10.0.0.0/24", "10.0.1.0/24", "10.0.0.5", "10.0.3.0/24", "255.255.255.255",
		"255.255.255.0/24", "2001:db8::/33", "2001:db8:8000::/33", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff::/16"})
	if err != nil {
		t.Fatal(err)
	}
	// 10.0.0.0-10.0.1.255, 10.0.3.0/24, 255.255.255.0/24; 2001:db8::/32, ffff::/16
	if len(s.v4) != 3 || len(s.v6) != 2 {
		t.Fatalf("v4 %v v6 %v", s.v4, s.v6)
	}
}

// TestAgainstLinearScan compares the range lookup with netip.Prefix.Contains over every
// entry, for random lists and addresses near the prefixes' edges.
func TestAgainstLinearScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		entries, prefixes := randomEntries(r, 1+r.IntN(200))
		s, err := ParseSet(entries)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2000; i++ {
			a := probe(r, prefixes)
			want := false
			for _, p := range prefixes {
				if p.Contains(a.Unmap()) {
					want = true
					break
				}
			}
			if got := s.Contains(a); got != want {
				t.Fatalf("round %d: Contains(%s) = %v, want %v (entries %v)", round, a, got, want, entries)
			}
		}
	}
}

func randomEntries(r *rand.Rand, n int) ([]string, []netip.Prefix) {
	var entries []string
	var prefixes []netip.Prefix
	for i := 0; i < n; i++ {
		var p netip.Prefix
		if r.IntN(2) == 0 {
			b := [4]byte{10, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}
			p = netip.PrefixFrom(netip.AddrFrom4(b), 8+r.IntN(25)).Masked()
		} else {
			var b [16]byte
			b[0], b[1], b[2] = 0x20, 0x01, byte(r.IntN(4))
			for j := 3; j < 16; j++ {
				b[j] = byte(r.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(b), 16+r.IntN(113)).Masked()
		}
		entries = append(entries, p.String())
		prefixes = append(prefixes, p)
	}
	return entries, prefixes
}

// probe returns an address at, just before or just after a random prefix's first or
// last address, or a random one.
func probe(r *rand.Rand, prefixes []netip.Prefix) netip.Addr {
	p := prefixes[r.IntN(len(prefixes))]
	a := p.Addr()
	if r.IntN(2) == 0 { // the last address
		b := a.AsSlice()
		for bit := p.Bits(); bit < len(b)*8; bit++ {
			b[bit/8] |= 0x80 >> (bit % 8)
		}
		a, _ = netip.AddrFromSlice(b)
	}
	switch r.IntN(4) {
	case 0:
		if n := a.Next(); n.IsValid() {
			return n
		}
	case 1:
		if n := a.Prev(); n.IsValid() {
			return n
		}
	case 2:
		if a.Is4() {
			return netip.AddrFrom16(a.As16()) // mapped form
		}
	}
	return a
}

func TestLookupDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	entries, _ := randomEntries(r, 10000)
	f, err := NewFilter(Config{Allow: entries[:5000], Deny: entries[5000:]})
	if err != nil {
		t.Fatal(err)
	}
	clients := []*asgi.Addr{{Host: "10.1.2.3"}, {Host: "2001:db8::1"}, {Host: "::ffff:10.0.0.1"}, {Host: "bogus"}}
	app, _ := New(asgi.AppFunc(okApp), Config{Deny: entries})
	scope := asgitest.NewHTTPScope("GET", "/")
	allocs := testing.AllocsPerRun(1000, func() {
		for _, c := range clients {
			f.AllowedClient(c)
		}
		app.Inline(scope)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per lookup", allocs)
	}
}

func BenchmarkLookup10000(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	entries, prefixes := randomEntries(r, 10000)
	f, err := NewFilter(Config{Deny: entries})
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([]*asgi.Addr, 1024)
	for i := range addrs {
		addrs[i] = &asgi.Addr{Host: probe(r, prefixes).String()}
	}
	b.Run("AllowedClient", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f.AllowedClient(addrs[i&1023])
		}
	})
	parsed := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		parsed[i] = netip.MustParseAddr(a.Host)
	}
	b.Run("Allowed", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f.Allowed(parsed[i&1023])
		}
	})
}

func okApp(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	switch scope.(type) {
	case *asgi.HTTPScope:
		return send(ctx, &asgi.HTTPResponseStart{Status: 200})
	case *asgi.WebSocketScope:
		return send(ctx, &asgi.WebSocketAccept{})
	case *asgi.LifespanScope:
		return errors.New("lifespan reached the app")
	}
	return nil
}

// inlineApp implements Inliner and WebSocketEventer.
type inlineApp struct{ asgi.AppFunc }

func (inlineApp) Inline(asgi.Scope) bool { return true }
func (inlineApp) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler {
	return handler{}
}

type handler struct{}

func (handler) HandleWebSocket(asgi.Message, asgi.WebSocketSender) error { return nil }

func TestMiddleware(t *testing.T) {
	app, err := New(inlineApp{okApp}, Config{Allow: []string{"127.0.0.0/8", "::1"}, Deny: []string{"127.0.0.66"}})
	if err != nil {
		t.Fatal(err)
	}
	wsExt := map[string]any{asgi.ExtWebSocketHTTPResponse: map[string]any{}}
	tests := []struct {
		name   string
		scope  asgi.Scope
		want   string // message types sent
		status int
		inline bool
		events bool
		err    string
	}{
		{"http allowed", httpFrom("127.0.0.1"), "http.response.start ", 200, true, false, ""},
		{"http v6 allowed", httpFrom("::1"), "http.response.start ", 200, true, false, ""},
		{"http denied", httpFrom("127.0.0.66"), "http.response.start http.response.body ", 403, true, false, ""},
		{"http not allowed", httpFrom("192.0.2.1"), "http.response.start http.response.body ", 403, true, false, ""},
		{"http no client", httpFrom(""), "http.response.start http.response.body ", 403, true, false, ""},
		{"ws allowed", wsFrom("127.0.0.1", nil), "websocket.accept ", 0, false, true, ""},
		{"ws denied close", wsFrom("10.0.0.1", nil), "websocket.close ", 0, false, false, ""},
		{"ws denied response", wsFrom("10.0.0.1", wsExt), "websocket.http.response.start websocket.http.response.body ", 403, false, false, ""},
		{"lifespan passes", &asgi.LifespanScope{}, "", 0, false, false, "lifespan reached the app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := asgitest.NewRecorder(tt.scope.Type())
			err := app.ServeASGI(context.Background(), tt.scope, asgitest.Script(nil), rec.Send)
			if fmt.Sprint(err) != fmt.Sprint(errOrNil(tt.err)) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
			if rec.Err != nil {
				t.Fatal(rec.Err)
			}
			if got := rec.String(); got != tt.want {
				t.Fatalf("sent %q, want %q", got, tt.want)
			}
			if len(rec.Messages) > 0 {
				switch m := rec.Messages[0].(type) {
				case *asgi.HTTPResponseStart:
					if m.Status != tt.status {
						t.Fatalf("status %d", m.Status)
					}
				case *asgi.WebSocketHTTPResponseStart:
					if m.Status != tt.status {
						t.Fatalf("status %d", m.Status)
					}
				}
			}
			if got := asgi.CanInline(app, tt.scope); got != tt.inline {
				t.Fatalf("inline %v", got)
			}
			if ws, ok := tt.scope.(*asgi.WebSocketScope); ok {
				if got := asgi.WebSocketHandlerFor(app, ws) != nil; got != tt.events {
					t.Fatalf("event handler %v", got)
				}
			}
		})
	}
}

func errOrNil(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

func httpFrom(host string) *asgi.HTTPScope {
	s := asgitest.NewHTTPScope("GET", "/")
	s.Client = nil
	if host != "" {
		s.Client = &asgi.Addr{Host: host, Port: 5000}
	}
	return s
}

func wsFrom(host string, ext map[string]any) *asgi.WebSocketScope {
	return &asgi.WebSocketScope{ASGI: asgi.DefaultInfo, HTTPVersion: "1.1", Scheme: "ws", Path: "/ws",
		Client: &asgi.Addr{Host: host, Port: 5000}, Extensions: ext}
}
