// Package fanout runs the ASGI lifespan protocol of several apps as if they were one:
// the composite apps (apps/mount, apps/router) answer the server's lifespan scope with
// Lifespan, which starts every member in order, skips members that do not support
// lifespan, and shuts the started ones down in reverse order.
//
// Members are driven as a server drives the served app, by lifespan.Call: each runs on
// its own goroutine with a Receive that yields lifespan.startup and later
// lifespan.shutdown, and a Send that accepts only the reply the current phase expects,
// checked by asgi.LifespanOrder (uvicorn's "Got invalid state transition on lifespan
// protocol." otherwise). There are no timeouts here: the server's lifespan manager owns
// them and cancels ctx, which cancels every member.
package fanout
