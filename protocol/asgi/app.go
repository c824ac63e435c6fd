package asgi

import "context"

// Version is the ASGI version reported in every scope.
const Version = "3.0"

// SpecVersion is the version of the HTTP and WebSocket protocol specs implemented.
const SpecVersion = "2.4"

// App is an ASGI-style application.
//
// ServeASGI is called once per HTTP request (or HTTP/2 stream), per WebSocket connection,
// and once for the lifespan of the server. It runs on its own goroutine unless the app
// implements Inliner and asks to be run on the event loop. ctx is cancelled when the
// connection is gone, when the server stops waiting for the app, and once ServeASGI has
// returned (so goroutines the app started and that watch ctx end with the request).
//
// Returning an error (or panicking) is handled by the server's failure policy: before the
// response started the client gets a 500 (HTTP) or a close 1011 (WebSocket); after that,
// the connection or stream is aborted.
type App interface {
	ServeASGI(ctx context.Context, scope Scope, receive Receive, send Send) error
}

// AppFunc adapts an ordinary function to the App interface.
type AppFunc func(ctx context.Context, scope Scope, receive Receive, send Send) error

// ServeASGI calls f(ctx, scope, receive, send).
func (f AppFunc) ServeASGI(ctx context.Context, scope Scope, receive Receive, send Send) error {
	return f(ctx, scope, receive, send)
}

// Receive returns the next inbound message. It blocks until a message is available or ctx
// is done. After the peer is gone it returns the protocol's disconnect message
// (HTTPDisconnect, WebSocketDisconnect) on every call. Receive is not safe for concurrent
// use: one goroutine of the app reads.
type Receive func(ctx context.Context) (Message, error)

// Send hands an outbound message to the server. It may block while too much output is
// unsent (backpressure) and returns ErrDisconnected once the peer is gone, or a
// *ContractError when the message is not allowed in the current state. The message and
// its byte slices are not retained after Send returns. Send is safe for concurrent use,
// but messages of one response are ordered by the calls' order.
type Send func(ctx context.Context, msg Message) error

// Inliner is implemented by apps that can answer some scopes without ever blocking: no
// I/O, no locks held for long, no waiting on receive beyond the messages already
// buffered. For such scopes the server may call ServeASGI on the event loop goroutine,
// which saves two goroutine handoffs per request. Inline must itself be fast and must
// not block. Servers fall back to a goroutine when the request body is not complete.
type Inliner interface {
	Inline(scope Scope) bool
}

// CanInline reports whether app asks to serve scope on the event loop goroutine.
func CanInline(app App, scope Scope) bool {
	in, ok := app.(Inliner)
	return ok && in.Inline(scope)
}

// Recycler is implemented by apps whose inline calls (see Inliner) keep nothing of the
// call once ServeASGI returns: not the scope, nor any slice or string it holds (path,
// headers, query), nor the request body bytes receive returned, nor receive or send,
// and no goroutine that uses them. A server may then reuse the scope, its buffers, the
// body's memory and the receive and send functions of such a call for a later request,
// which saves their allocation on the fast path.
//
// The promise covers inline calls only: calls on the app's own goroutine keep the whole
// contract (the scope belongs to the app; a send after the call's end fails). An app
// that breaks it sees another request's scope change under it, and a late send may
// write into another response. Recycles is asked once, before the server serves; a
// middleware answers for itself and for every app it can call inline (CanRecycle).
type Recycler interface {
	Recycles() bool
}

// CanRecycle reports whether app keeps nothing of its inline calls (Recycler). An app
// that is not an Inliner never runs inline and trivially keeps nothing of such calls;
// an Inliner that does not implement Recycler is assumed to keep what it may.
func CanRecycle(app App) bool {
	if r, ok := app.(Recycler); ok {
		return r.Recycles()
	}
	_, inline := app.(Inliner)
	return !inline
}

// BodyRecycler is implemented by apps that, for some scopes, keep no request body chunk
// (HTTPRequest.Body) once ServeASGI returns, whether the call ran inline or on its own
// goroutine: not the slice nor any part of it, and no goroutine that outlives the call
// reads it. A server may then reuse the chunks' memory for later requests' bodies, which
// spares a large upload the allocation, zeroing and page faults of fresh memory.
// RecyclesBody is asked at most once per request, from the server's goroutine while the
// call may run: it must be fast, must not block and must only read the scope. A
// middleware answers for the app it passes the request to (CanRecycleBody). An app
// that breaks the promise sees its chunks overwritten by another request's body.
type BodyRecycler interface {
	RecyclesBody(scope Scope) bool
}

// CanRecycleBody reports whether app keeps no request body chunk of its call for scope
// once the call returns (BodyRecycler). Apps without the method are assumed to keep
// what they may.
func CanRecycleBody(app App, scope Scope) bool {
	r, ok := app.(BodyRecycler)
	return ok && r.RecyclesBody(scope)
}
