package demo

import (
	"github.com/asgo-dev/asgo/apps/big"
	"github.com/asgo-dev/asgo/apps/chat"
	"github.com/asgo-dev/asgo/apps/echo"
	"github.com/asgo-dev/asgo/apps/hello"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/apps/nethttp"
	"github.com/asgo-dev/asgo/apps/nethttp/nethttpdemo"
	"github.com/asgo-dev/asgo/apps/router"
	"github.com/asgo-dev/asgo/apps/scopedump"
	"github.com/asgo-dev/asgo/apps/stream"
	"github.com/asgo-dev/asgo/apps/wsecho"
	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/apps/wsgi/wsgidemo"
	"github.com/asgo-dev/asgo/channels"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Paths of the demo's routes and mount points.
const (
	PathHello    = "/"
	PathEcho     = "/echo"
	PathStream   = "/stream"
	PathBig      = "/big"
	PathJSON     = "/json"
	PathScope    = "/scope"
	PathWSEcho   = "/ws"
	PathChat     = "/chat"
	PathChatPage = "/chat.html"
	MountWSGI    = "/wsgi"
	MountNetHTTP = "/nethttp"
	MountStatic  = "/static"
)

// PathHelloGoroutine serves the greeting of / off the event loop, on a goroutine per
// request (hello.Goroutine): the benchmarks compare the WSGI-style path with it.
const PathHelloGoroutine = "/hello-goroutine"

// Options adds the apps built elsewhere to the demo. A nil app leaves its route out.
// The zero value is the demo with the reference apps only.
type Options struct {
	// Echo configures POST /echo.
	Echo echo.Config
	// WebSocketEcho serves WebSocket scopes at /ws.
	WebSocketEcho asgi.App
	// Chat serves WebSocket scopes at /chat.
	Chat asgi.App
	// ChatPage serves GET and HEAD /chat.html (the chat's HTML client).
	ChatPage asgi.App
	// WSGI is mounted at /wsgi: it sees root_path "/wsgi" (see package mount).
	WSGI asgi.App
	// NetHTTP is mounted at /nethttp.
	NetHTTP asgi.App
	// Static is mounted at /static (StaticApp: the demo's bundled files).
	Static asgi.App
}

// Every route that serves GET also serves HEAD (RFC 9110 9.3.2).
var (
	getHead = []string{"GET", "HEAD"}
	post    = []string{"POST"}
)

// New returns the demo app with the reference apps, including the WebSocket echo at
// /ws and the chat rooms at /chat (on the server's channel layer, channels.Default)
// with their page at /chat.html, the WSGI-style demo
// (apps/wsgi/wsgidemo, on a worker pool with the wsgi defaults, which follow
// wsgi.SetDefaults) at /wsgi and the net/http demo (apps/nethttp/nethttpdemo) at
// /nethttp, and the bundled static files (StaticApp) at /static.
func New() asgi.App {
	room := chat.New(chat.Config{Layer: channels.Default()})
	return Build(Options{WebSocketEcho: wsecho.App, Chat: room, ChatPage: room,
		WSGI: wsgi.New(wsgidemo.Handler(), wsgi.Config{}), NetHTTP: nethttp.New(nethttpdemo.Mux(), nethttp.Config{}),
		Static: StaticApp()})
}

// Build returns the demo app: a Mount with Routes(o) as its fallback and the WSGI and
// net/http apps of o mounted by prefix, plus the demo's own lifespan (see App).
func Build(o Options) *App {
	m := mount.New().Add("/", Routes(o))
	if o.WSGI != nil {
		m.Add(MountWSGI, o.WSGI)
	}
	if o.NetHTTP != nil {
		m.Add(MountNetHTTP, o.NetHTTP)
	}
	if o.Static != nil {
		m.Add(MountStatic, o.Static)
	}
	return &App{mount: m}
}

// Routes returns the demo's exact-path routes, including the WebSocket and chat routes
// of o. Callers may add routes to it before it serves.
func Routes(o Options) *router.Router {
	r := router.New().
		Route(getHead, PathHello, hello.App).
		Route(getHead, PathHelloGoroutine, hello.Goroutine).
		Route(post, PathEcho, echo.New(o.Echo)).
		Route(post, PathSum, sumApp).
		Route(getHead, PathStream, stream.App).
		Route(getHead, PathBig, big.App).
		Route(getHead, PathJSON, big.JSON).
		Route(getHead, PathScope, scopedump.App)
	if o.WebSocketEcho != nil {
		r.WebSocket(PathWSEcho, o.WebSocketEcho)
	}
	if o.Chat != nil {
		r.WebSocket(PathChat, o.Chat)
	}
	if o.ChatPage != nil {
		r.Route(getHead, PathChatPage, o.ChatPage)
	}
	return r
}
