// Package lifespan runs the ASGI lifespan protocol of the served app: one call of the app
// with a *asgi.LifespanScope on its own goroutine, lifespan.startup before the server
// accepts connections, lifespan.shutdown after it drained them, with timeouts, and the
// state map the app fills during startup (every request scope reads it through an
// asgi.State, which copies it on the request's first write).
//
// Manager is the server's side. Call, under it, drives one app's lifespan call (its
// goroutine, Receive and Send, and the order of the phases) without modes, default
// timeouts or logging; composite apps (apps/fanout) use it to drive their members.
//
// # Modes
//
// Auto (the default) runs the protocol and tolerates apps that do not support it: an app
// that returns (with or without an error), panics, or sends a message other than
// lifespan.startup.complete / lifespan.startup.failed before it replied to startup is
// taken as not supporting lifespan. This is logged at info level with uvicorn's words,
// "ASGI 'lifespan' protocol appears unsupported.", and Startup returns nil. On makes the
// same an error; Off never calls the app.
//
// # Message order
//
// The app may send exactly one reply per phase: lifespan.startup.complete or
// lifespan.startup.failed after lifespan.startup, lifespan.shutdown.complete or
// lifespan.shutdown.failed after lifespan.shutdown. Send checks this with
// asgi.LifespanOrder: anything else is refused with a *asgi.ContractError worded as
// uvicorn's ("Got invalid state transition on lifespan protocol.") and ends the phase
// with that error.
//
// # Apps that return early
//
// uvicorn treats an app that returns after lifespan.startup.complete as done: its
// shutdown then completes at once ("Application shutdown complete."), because the
// lifespan task's finally block sets the shutdown event. asgo does the same for an app
// that returns nil, before or during shutdown. An app that returns an error or panics
// after its startup is logged when it happens and reported by Shutdown as an error
// (uvicorn swallows it in auto mode).
//
// An app that returns nil without ever replying to lifespan.startup is treated as not
// supporting lifespan (uvicorn would report "Application startup complete." for it);
// for Go apps, returning nil on an unknown scope type is the usual way to say "not mine".
package lifespan
