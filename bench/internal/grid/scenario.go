package grid

import (
	"fmt"
	"strings"
)

// Family groups scenarios that hit the same route with the same kind of load generator.
type Family string

// Families. The route a server serves for each is in Server.Routes.
const (
	Hello    Family = "hello"    // GET "Hello, World!" over HTTP/1.1 keep-alive, wrk
	Pipeline Family = "pipeline" // the same, pipelined, wrk with the Lua script
	H2       Family = "h2"       // GET hello over h2c with prior knowledge, h2load
	Post     Family = "post"     // POST echo of a fixed body, wrk
	WSGI     Family = "wsgi"     // hello through a WSGI-style (sync) application path, wrk
	// Goroutine is hello from an async app run off the event loop, on a goroutine per
	// request, as the WSGI-style path runs (asgo's /hello-goroutine; peers' /), wrk.
	Goroutine Family = "goroutine"
	NetHTTP   Family = "nethttp" // hello through a net/http Handler adapter, wrk
	WS        Family = "ws"      // WebSocket echo, closed loop, benchload ws
	// Broadcast is one room: the first member publishes, the server relays every message to
	// every member (benchload broadcast). Its rate counts deliveries.
	Broadcast Family = "broadcast"
	// Fairness is a bystander's hello round trips, alone and then while other connections
	// flood the same loop (benchload fairness): pipelined GETs on the hello route and large
	// uploads to the echo route. Its figure is the bystander's p99 under the floods.
	Fairness Family = "fairness"
	IdleH1   Family = "idle-h1" // idle HTTP/1.1 keep-alive connections, benchload idle
	IdleH2   Family = "idle-h2" // idle HTTP/2 connections
	IdleWS   Family = "idle-ws" // idle WebSocket connections
	// IdleTLS is idle HTTP/1.1 keep-alive connections over TLS: its own family, so its
	// steps are not mixed with the cleartext ones.
	IdleTLS Family = "idle-h1-tls"
)

// Idle reports whether f measures memory of idle connections instead of throughput.
func (f Family) Idle() bool { return f == IdleH1 || f == IdleH2 || f == IdleWS || f == IdleTLS }

// LowerIsBetter reports whether a smaller figure is better: memory per idle connection,
// a bystander's latency.
func (f Family) LowerIsBetter() bool { return f.Idle() || f == Fairness }

// Benchload reports whether the family's load is benchload measuring its own interval
// (warm-up included) and its own CPU time.
func (f Family) Benchload() bool { return f == WS || f == Broadcast || f == Fairness }

// IdleMode is benchload idle's -mode for an idle family.
func (f Family) IdleMode() string {
	if f == IdleTLS {
		return "h1" // over https://
	}
	return strings.TrimPrefix(string(f), "idle-")
}

// Baseline is the server every figure of the family is divided by: net/http for HTTP/1.1,
// net/http with x/net h2c for HTTP/2, gorilla/websocket for WebSocket.
func (f Family) Baseline() string {
	switch f {
	case H2, IdleH2:
		return "h2c"
	case WS, IdleWS:
		return "gorilla"
	case Broadcast:
		return "gws"
	}
	return "nethttp"
}

// Ceiling is the raw gnet server, for the families it can answer; "" when it has none.
func (f Family) Ceiling() string {
	switch f {
	case Hello, Pipeline, WSGI, Goroutine, NetHTTP, IdleH1:
		return "gnetraw"
	}
	return ""
}

// Scenario is one cell column of the grid.
type Scenario struct {
	ID     string
	Family Family
	Title  string
	// Conns is the number of connections. For idle scenarios, 0 means "the largest count
	// the open-file limit allows" (see MaxIdleConns).
	Conns    int
	Pipeline int // requests per write (Pipeline family; the Fairness family's pipelined flood)
	Streams  int // concurrent streams per connection (H2 family)
	BodySize int // request body bytes (Post family; the Fairness family's uploads)
	MsgSize  int // WebSocket payload bytes (WS and Broadcast families)
	// Servers taking part by default, in the order they are alternated.
	Servers []string
	// Beside names a throughput scenario whose rounds this one's alternate with when both
	// are selected, because a target compares the two on one server: measured minutes
	// apart, their ratio would carry the machine's drift in between.
	Beside string `json:",omitempty"`
	// Alias is the ID before Resolve renamed an idle scenario after its count.
	Alias string `json:",omitempty"`
	// TLS runs the scenario over TLS (https://, wss://) against servers that support it
	// (Server.TLSArgs), with a self-signed certificate the runner makes.
	TLS bool `json:",omitempty"`
}

// Unit is what the scenario's rate counts.
func (s Scenario) Unit() string {
	switch {
	case s.Family == WS:
		return "msg/s"
	case s.Family == Broadcast:
		return "deliveries/s"
	case s.Family == Fairness:
		return "ms p99 under flood"
	case s.Family.Idle():
		return "KiB/conn"
	}
	return "req/s"
}

var (
	goHTTP = []string{"asgo", "nethttp", "fasthttp", "hertz", "nbio", "gnetraw"}
	goWS   = []string{"asgo", "gorilla", "gws", "nbio"}
)

func with(base []string, more ...string) []string {
	return append(append([]string(nil), base...), more...)
}

// Scenarios is the full grid in run and report order: the headline comparison of issue 2
// (HTTP/1.1 at 256 connections, idle HTTP/1.1 memory) first, so that an interrupted run
// still has it. Idle scenarios with Conns == 0 are resolved against the open-file limit by
// Resolve.
var Scenarios = []Scenario{
	{ID: "h1-256", Family: Hello, Title: "HTTP/1.1 keep-alive hello, 256 connections", Conns: 256,
		Servers: with(goHTTP, "uvicorn", "hypercorn", "daphne", "nginx-asgo", "asgo-metrics", "asgo-observed")},
	{ID: "idle-h1-10k", Family: IdleH1, Title: "idle HTTP/1.1 keep-alive connections", Conns: 10000, Servers: goHTTP},
	{ID: "idle-h1-max", Family: IdleH1, Title: "idle HTTP/1.1 keep-alive connections", Servers: []string{"asgo", "nethttp", "nbio", "gnetraw"}},
	{ID: "h1-64", Family: Hello, Title: "HTTP/1.1 keep-alive hello, 64 connections", Conns: 64, Servers: goHTTP},
	{ID: "h1-1024", Family: Hello, Title: "HTTP/1.1 keep-alive hello, 1024 connections", Conns: 1024, Servers: goHTTP},
	{ID: "h1-4096", Family: Hello, Title: "HTTP/1.1 keep-alive hello, 4096 connections", Conns: 4096, Servers: goHTTP},
	{ID: "h1-pipe16", Family: Pipeline, Title: "HTTP/1.1 hello pipelined x16, 256 connections", Conns: 256, Pipeline: 16,
		Servers: with(goHTTP, "uvicorn")},
	{ID: "h2-10x100", Family: H2, Title: "HTTP/2 hello, 10 connections x 100 streams", Conns: 10, Streams: 100,
		Servers: []string{"asgo", "h2c", "hypercorn"}},
	{ID: "post-4k", Family: Post, Title: "POST echo 4 KiB, 64 connections", Conns: 64, BodySize: 4 << 10,
		Servers: []string{"asgo", "nethttp", "fasthttp", "hertz", "nbio", "uvicorn", "nginx-asgo"}},
	{ID: "post-1m", Family: Post, Title: "POST echo 1 MiB, 16 connections", Conns: 16, BodySize: 1 << 20,
		Servers: []string{"asgo", "nethttp", "fasthttp", "nbio", "uvicorn"}},
	{ID: "wsgi-256", Family: WSGI, Title: "hello through a WSGI-style app, 256 connections", Conns: 256,
		Servers: []string{"asgo", "asgo-async", "nethttp", "gunicorn", "uwsgi", "gnetraw"}, Beside: "h1-256"},
	{ID: "async-goroutine-256", Family: Goroutine, Title: "hello from an async app off the event loop, 256 connections",
		Conns: 256, Servers: []string{"asgo", "nethttp", "gnetraw"}, Beside: "h1-256"},
	{ID: "nethttp-256", Family: NetHTTP, Title: "hello through a net/http Handler adapter, 256 connections", Conns: 256,
		Servers: []string{"asgo", "nethttp", "gnetraw"}},
	{ID: "ws-100", Family: WS, Title: "WebSocket echo 64 B, 100 connections", Conns: 100, MsgSize: 64,
		Servers: with(goWS, "uvicorn", "hypercorn", "daphne")},
	{ID: "ws-1000", Family: WS, Title: "WebSocket echo 64 B, 1000 connections", Conns: 1000, MsgSize: 64,
		Servers: with(goWS, "uvicorn")},
	{ID: "ws-10000", Family: WS, Title: "WebSocket echo 64 B, 10,000 connections", Conns: 10000, MsgSize: 64, Servers: goWS},
	{ID: "ws-bcast-10k", Family: Broadcast, Title: "WebSocket broadcast of 1 KiB to 10,000 members of one room", Conns: 10000, MsgSize: 1024,
		Servers: []string{"asgo", "gws", "nbio", "gorilla"}},
	// Fairness (issue 14): the bystander, one connection pipelining 10,000 GETs per write
	// and one uploading 64 MiB bodies to the echo route, all on the server's one loop.
	{ID: "fairness-flood", Family: Fairness, Title: "a hello bystander's p99 while one connection pipelines 10,000 GETs per write and another uploads 64 MiB to the echo route",
		Conns: 3, Pipeline: 10000, BodySize: 64 << 20, Servers: []string{"asgo", "nethttp", "fasthttp", "hertz", "nbio"}},
	{ID: "idle-h2-10k", Family: IdleH2, Title: "idle HTTP/2 connections", Conns: 10000, Servers: []string{"asgo", "h2c"}},
	{ID: "idle-h2-max", Family: IdleH2, Title: "idle HTTP/2 connections", Servers: []string{"asgo", "h2c"}},
	{ID: "idle-ws-10k", Family: IdleWS, Title: "idle WebSocket connections", Conns: 10000, Servers: goWS},
	{ID: "idle-ws-max", Family: IdleWS, Title: "idle WebSocket connections", Servers: []string{"asgo", "gorilla", "nbio"}},
	// Deployment: asgo and net/http alone, asgo behind nginx (TCP, Unix socket,
	// uwsgi_pass) and haproxy (PROXY protocol v2), and uWSGI behind nginx's uwsgi_pass,
	// on the same hello.
	{ID: "deploy-256", Family: Hello, Title: "hello behind nginx and haproxy, 256 connections", Conns: 256,
		Servers: []string{"asgo", "nethttp", "nginx-asgo", "nginx-asgo-unix", "nginx-uwsgi-asgo", "nginx-uwsgi-uwsgi", "haproxy-asgo"}},
	// TLS: the same loads over TLS 1.3 (ALPN h2 for h2load, http/1.1 for the others).
	{ID: "h1-tls-256", Family: Hello, TLS: true, Title: "HTTPS/1.1 keep-alive hello, 256 connections", Conns: 256,
		Servers: []string{"asgo", "nethttp"}},
	{ID: "h2-tls-10x100", Family: H2, TLS: true, Title: "HTTP/2 over TLS hello, 10 connections x 100 streams",
		Conns: 10, Streams: 100, Servers: []string{"asgo", "h2c"}},
	{ID: "ws-tls-1000", Family: WS, TLS: true, Title: "WebSocket over TLS (wss) echo 64 B, 1000 connections",
		Conns: 1000, MsgSize: 64, Servers: []string{"asgo", "gorilla"}},
	{ID: "idle-h1-tls-10k", Family: IdleTLS, TLS: true, Title: "idle HTTPS/1.1 keep-alive connections", Conns: 10000,
		Servers: []string{"asgo", "nethttp", "nbio"}},
}

// UnpinnedServers are the servers of the unpinned variant unless the servers are chosen
// explicitly.
var UnpinnedServers = goHTTP

// QuickScenarios is the selection of `make bench-quick`.
var QuickScenarios = []string{"h1-256", "ws-100", "idle-h1-10k"}

// QuickServers is the server selection of `make bench-quick`.
var QuickServers = []string{"asgo", "nethttp", "nbio", "gnetraw", "gorilla"}

// fdReserve is the number of descriptors kept free under the open-file limit for listeners,
// logs and the process's own files.
const fdReserve = 1000

// MaxIdleConns is the largest idle-connection count that fits under a hard open-file limit,
// capped at ceiling (each side of a loopback connection is a separate process, so each needs
// one descriptor per connection).
func MaxIdleConns(hardLimit uint64, ceiling int) int {
	if hardLimit <= fdReserve {
		return 1
	}
	return int(min(uint64(ceiling), hardLimit-fdReserve))
}

// Resolve fills in the connection count of "max" idle scenarios and renames them after the
// count (idle-h1-max -> idle-h1-19k), and scales any idle count above maxConns down to it.
// When override > 0 every idle scenario uses that count instead (smoke tests).
func Resolve(scs []Scenario, maxConns, override int) []Scenario {
	out := make([]Scenario, 0, len(scs))
	seen := map[string]bool{}
	for _, s := range scs {
		if s.Family.Idle() {
			s = resolveIdle(s, maxConns, override)
			if seen[s.ID] {
				continue // "10k" and "max" coincide when the limit is low
			}
		}
		seen[s.ID] = true
		out = append(out, s)
	}
	return out
}

func resolveIdle(s Scenario, maxConns, override int) Scenario {
	switch {
	case override > 0:
		s.Conns = override
	case s.Conns == 0 || s.Conns > maxConns:
		s.Conns = maxConns
	}
	s.Alias = s.ID
	s.ID = fmt.Sprintf("%s-%s", s.Family, countLabel(s.Conns))
	s.Title = fmt.Sprintf("%s, %s connections", s.Title, countLabel(s.Conns))
	return s
}

// countLabel writes 19000 as "19k" and 950 as "950".
func countLabel(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	if n >= 1000 {
		return strings.TrimSuffix(fmt.Sprintf("%.1fk", float64(n)/1000), ".0k")
	}
	return fmt.Sprint(n)
}

// Select returns the scenarios named in ids (all when ids is empty), in grid order. Idle IDs
// may be given before resolution ("idle-h1-max") or after ("idle-h1-19k"), or as a family
// ("idle-h1") to take both counts.
func Select(scs []Scenario, ids []string) ([]Scenario, error) {
	if len(ids) == 0 {
		return scs, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []Scenario
	for _, s := range scs {
		if want[s.ID] || want[s.Alias] || want[string(s.Family)] {
			out = append(out, s)
		}
	}
	for _, s := range scs {
		delete(want, s.ID)
		delete(want, s.Alias)
	}
	for _, s := range scs {
		delete(want, string(s.Family))
	}
	for id := range want {
		return nil, fmt.Errorf("grid: unknown scenario %q", id)
	}
	return out, nil
}
