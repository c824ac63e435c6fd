package grid

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// Kind says how a server is started.
type Kind string

// Kinds.
const (
	KindASGO   Kind = "asgo"   // the asgo binary given as ASGO
	KindGoPeer Kind = "go"     // a peer built from bench/peers/NAME
	KindPython Kind = "python" // a Python server from Debian's packages running peers/python/app.py
	KindFront  Kind = "front"  // a proxy (nginx, haproxy) in front of a backend: Server.Front
)

// Server is one contender.
type Server struct {
	Name  string
	Kind  Kind
	Title string
	// Routes maps each family the server supports to the path it serves it on; the
	// Fairness family uses the Hello and Post routes.
	Routes map[Family]string
	// Args builds the command line for a port; see Launch for how it is run.
	Args func(env *Setup, port int, pinned bool) []string
	// Version names the library or package whose version the report shows.
	Version string
	// Front, for KindFront, is the proxy and the backend behind it (front.go).
	Front *Front `json:",omitempty"`
	// TLSArgs are added to Args for a TLS scenario; nil: the server takes no part in them.
	TLSArgs func(env *Setup) []string
}

// Supports reports whether the server takes part in family f.
func (s *Server) Supports(f Family) bool {
	if f == Fairness {
		return s.Supports(Hello) && s.Supports(Post)
	}
	_, ok := s.Routes[f]
	return ok
}

// Setup is where the runner finds binaries and files. Zero fields are filled by Normalize.
type Setup struct {
	// ASGO is the asgo binary (required for asgo and nginx-asgo).
	ASGO string
	// BinDir holds the Go peers and benchload, built by bench/Makefile.
	BinDir string
	// PythonDir holds app.py; Python is the interpreter that sees Debian's packages.
	PythonDir, Python string
	// ASGORoutes overrides asgo's route per family (for a demo app that moved a route).
	ASGORoutes map[Family]string
	// CertFile and KeyFile are the TLS scenarios' certificate and key (PEM), made by the
	// runner (MakeCert) when empty.
	CertFile, KeyFile string
}

// SupportsScenario reports whether s takes part in sc: its family, and TLS if asked.
func (s *Server) SupportsScenario(sc Scenario) bool {
	return s.Supports(sc.Family) && (!sc.TLS || s.TLSArgs != nil)
}

var helloRoutes = map[Family]string{Hello: "/", Pipeline: "/", Post: "/echo", WSGI: "/", Goroutine: "/", NetHTTP: "/", IdleH1: "/"}

func routes(base map[Family]string, more map[Family]string) map[Family]string {
	out := map[Family]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// DefaultASGORoutes are the paths of asgo's demo app for each family.
var DefaultASGORoutes = map[Family]string{
	Hello: "/", Pipeline: "/", H2: "/", Post: "/echo", WSGI: "/wsgi/", Goroutine: "/hello-goroutine", NetHTTP: "/nethttp/",
	WS: "/ws", Broadcast: "/chat", IdleH1: "/", IdleH2: "/", IdleWS: "/ws", IdleTLS: "/",
}

func loops(pinned bool) string {
	if pinned {
		return "1"
	}
	return "0"
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func goPeer(name, title, version string, r map[Family]string) *Server {
	return &Server{Name: name, Kind: KindGoPeer, Title: title, Routes: r, Version: version,
		Args: func(e *Setup, port int, pinned bool) []string {
			return []string{e.BinDir + "/" + name, "-addr", addr(port), "-loops", loops(pinned), "-keepalive", "10m"}
		}}
}

// withTLS marks a Go peer that serves TLS with -cert and -key (net/http's TLS).
func withTLS(s *Server) *Server {
	s.TLSArgs = func(e *Setup) []string { return []string{"-cert", e.CertFile, "-key", e.KeyFile} }
	return s
}

// asgoTLSArgs serve asgo's bind with TLS, with uvicorn's flag names.
func asgoTLSArgs(e *Setup) []string {
	return []string{"--ssl-certfile", e.CertFile, "--ssl-keyfile", e.KeyFile}
}

func asgoArgs(e *Setup, port int, pinned bool) []string {
	return []string{e.ASGO, "serve", "--app", "demo", "--bind", addr(port), "--loops", loops(pinned),
		"--timeout-keep-alive", "10m", "--access-log=false", "--log-level", "warn"}
}

// asgoMetricsArgs is asgo with Prometheus metrics on (--metrics-bind), access log off.
func asgoMetricsArgs(e *Setup, port int, pinned bool) []string {
	return append(asgoArgs(e, port, pinned), "--metrics-bind", "127.0.0.1:0")
}

// asgoObservedArgs is asgo with what production turns on: Prometheus metrics
// (--metrics-bind, counters on every request) and the access log written to a file.
// The file is in the temporary directory, one per port, truncated at each start.
func asgoObservedArgs(e *Setup, port int, pinned bool) []string {
	args := asgoArgs(e, port, pinned)
	args = slices.DeleteFunc(args, func(a string) bool { return a == "--access-log=false" })
	log := filepath.Join(os.TempDir(), "asgo-bench-access-"+strconv.Itoa(port)+".log")
	_ = os.Remove(log)
	return append(args, "--metrics-bind", "127.0.0.1:0", "--access-log-file", log)
}

func python(name, title, pkg string, r map[Family]string, args func(port int) []string) *Server {
	return &Server{Name: name, Kind: KindPython, Title: title, Routes: r, Version: pkg,
		Args: func(e *Setup, port int, _ bool) []string { return append([]string{e.Python}, args(port)...) }}
}

// Servers is every contender, by name.
var Servers = map[string]*Server{
	"asgo": {Name: "asgo", Kind: KindASGO, Title: "asgo (demo app)", Routes: DefaultASGORoutes, Args: asgoArgs, Version: "asgo",
		TLSArgs: asgoTLSArgs},
	"asgo-metrics": {Name: "asgo-metrics", Kind: KindASGO, Title: "asgo (demo app) with --metrics-bind",
		Routes: DefaultASGORoutes, Args: asgoMetricsArgs, Version: "asgo"},
	"asgo-observed": {Name: "asgo-observed", Kind: KindASGO, Title: "asgo (demo app) with --metrics-bind and --access-log-file",
		Routes: DefaultASGORoutes, Args: asgoObservedArgs, Version: "asgo"},
	// The async hello run off the loop, on the WSGI scenarios' load: wsgi-256 alternates
	// it with asgo's WSGI-style hello in the same rounds (issue 14, item 8).
	"asgo-async": {Name: "asgo-async", Kind: KindASGO, Title: "asgo (demo app): the async hello off the loop (/hello-goroutine)",
		Routes: map[Family]string{WSGI: DefaultASGORoutes[Goroutine]}, Args: asgoArgs, Version: "asgo"},
	"nethttp": withTLS(goPeer("nethttp", "net/http", "go", routes(helloRoutes, map[Family]string{IdleTLS: "/"}))),
	"h2c": withTLS(goPeer("h2c", "net/http + x/net h2c (over TLS: net/http's HTTP/2)", "golang.org/x/net",
		map[Family]string{Hello: "/", H2: "/", Post: "/echo", IdleH1: "/", IdleH2: "/"})),
	"fasthttp": goPeer("fasthttp", "valyala/fasthttp", "github.com/valyala/fasthttp", routes(helloRoutes, nil)),
	"hertz":    goPeer("hertz", "cloudwego/hertz", "github.com/cloudwego/hertz", routes(helloRoutes, nil)),
	"nbio": withTLS(goPeer("nbio", "lesismal/nbio (nbhttp + websocket; TLS: llib's crypto/tls fork)", "github.com/lesismal/nbio",
		routes(helloRoutes, map[Family]string{WS: "/ws", Broadcast: "/broadcast", IdleWS: "/ws", IdleTLS: "/"}))),
	"gnetraw": goPeer("gnetraw", "raw gnet, canned responses (ceiling)", "github.com/panjf2000/gnet/v2",
		map[Family]string{Hello: "/", Pipeline: "/", WSGI: "/", Goroutine: "/", NetHTTP: "/", IdleH1: "/"}),
	"gorilla": withTLS(goPeer("gorilla", "gorilla/websocket on net/http", "github.com/gorilla/websocket",
		map[Family]string{Hello: "/", WS: "/ws", Broadcast: "/broadcast", IdleWS: "/ws"})),
	"gws": goPeer("gws", "lxzan/gws on net/http", "github.com/lxzan/gws",
		map[Family]string{Hello: "/", WS: "/ws", Broadcast: "/broadcast", IdleWS: "/ws"}),
	"uvicorn": python("uvicorn", "uvicorn (httptools + uvloop)", "python3-uvicorn",
		map[Family]string{Hello: "/", Pipeline: "/", Post: "/echo", WS: "/ws", IdleH1: "/", IdleWS: "/ws"},
		func(port int) []string {
			return []string{"-m", "uvicorn", "app:asgi", "--host", "127.0.0.1", "--port", strconv.Itoa(port),
				"--loop", "uvloop", "--http", "httptools", "--ws", "websockets", "--no-access-log",
				"--log-level", "warning", "--timeout-keep-alive", "600", "--lifespan", "off"}
		}),
	"hypercorn": python("hypercorn", "hypercorn", "python3-hypercorn",
		map[Family]string{Hello: "/", H2: "/", Post: "/echo", WS: "/ws"},
		func(port int) []string {
			return []string{"-m", "hypercorn", "app:asgi", "--bind", addr(port), "--keep-alive", "600", "--workers", "1"}
		}),
	"daphne": python("daphne", "daphne", "daphne", map[Family]string{Hello: "/", Post: "/echo", WS: "/ws"},
		func(port int) []string {
			return []string{"-m", "daphne", "-b", "127.0.0.1", "-p", strconv.Itoa(port), "--http-timeout", "600", "-v", "0", "app:asgi"}
		}),
	"gunicorn": python("gunicorn", "gunicorn (gthread, 1 worker x 8 threads)", "gunicorn",
		map[Family]string{Hello: "/", WSGI: "/", Post: "/echo"},
		func(port int) []string {
			return []string{"-m", "gunicorn", "-w", "1", "--worker-class", "gthread", "--threads", "8",
				"--keep-alive", "600", "--worker-connections", "20000", "-b", addr(port), "app:wsgi"}
		}),
	"uwsgi": {Name: "uwsgi", Kind: KindPython, Title: "uWSGI (1 process x 8 threads, HTTP/1.1 keep-alive socket)", Version: "uwsgi-core",
		Routes: map[Family]string{Hello: "/", WSGI: "/", Post: "/echo"},
		Args: func(e *Setup, port int, _ bool) []string {
			return []string{"uwsgi", "--plugin", "python3", "--http11-socket", addr(port), "--wsgi-file", "app.py",
				"--callable", "wsgi", "--processes", "1", "--threads", "8", "--master", "--die-on-term", "--disable-logging",
				"--listen", "1024"}
		}},
	// Deployment setups (front.go); all are compared on the same hello in deploy-256.
	"nginx-asgo": {Name: "nginx-asgo", Kind: KindFront, Title: "nginx -> asgo (proxy_pass, upstream keepalive)", Version: "nginx-light",
		Routes: map[Family]string{Hello: "/", Post: "/echo"},
		Front:  &Front{Proxy: "nginx", Backend: asgoBackend("tcp"), Conf: ngxProxyPass, ASGO: true}},
	"nginx-asgo-unix": {Name: "nginx-asgo-unix", Kind: KindFront, Title: "nginx -> asgo over a Unix socket (proxy_pass, upstream keepalive)",
		Version: "nginx-light", Routes: map[Family]string{Hello: "/"},
		Front: &Front{Proxy: "nginx", Backend: asgoBackend("uds"), Conf: ngxProxyPass, ASGO: true}},
	"nginx-uwsgi-asgo": {Name: "nginx-uwsgi-asgo", Kind: KindFront, Title: "nginx uwsgi_pass -> asgo --uwsgi-bind (Unix socket)",
		Version: "nginx-light", Routes: map[Family]string{Hello: "/"},
		Front: &Front{Proxy: "nginx", Backend: asgoBackend("uwsgi"), Conf: ngxUWSGIPass, ASGO: true}},
	"nginx-uwsgi-uwsgi": {Name: "nginx-uwsgi-uwsgi", Kind: KindFront, Title: "nginx uwsgi_pass -> uWSGI (Unix socket, 1 process x 8 threads)",
		Version: "uwsgi-core", Routes: map[Family]string{Hello: "/"},
		Front: &Front{Proxy: "nginx", Backend: uwsgiBackend, Conf: ngxUWSGIPass}},
	"haproxy-asgo": {Name: "haproxy-asgo", Kind: KindFront, Title: "haproxy (mode tcp, send-proxy-v2) -> asgo --proxy-protocol",
		Version: "haproxy", Routes: map[Family]string{Hello: "/"},
		Front: &Front{Proxy: "haproxy", Backend: asgoBackend("tcp", "proxy-protocol"), Conf: "send-proxy-v2", ASGO: true}},
}

// ServerNames returns every server name, sorted.
func ServerNames() []string {
	names := make([]string, 0, len(Servers))
	for n := range Servers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Route returns the path server s serves family f on, honouring asgo route overrides.
func (e *Setup) Route(s *Server, f Family) string {
	if s.Kind == KindASGO || s.Kind == KindFront && s.Front.ASGO {
		if p, ok := e.ASGORoutes[f]; ok {
			return p
		}
	}
	return s.Routes[f]
}

// lookup returns the named server or an error naming the known ones.
func lookup(name string) (*Server, error) {
	s, ok := Servers[name]
	if !ok {
		return nil, fmt.Errorf("grid: unknown server %q (known: %v)", name, ServerNames())
	}
	return s, nil
}
