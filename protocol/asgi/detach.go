package asgi

import "context"

// Detacher is what a server offers, in the context of an app call it runs on a
// goroutine, to an app that must end the call before its own goroutine returns: an
// adapter that runs blocking handler code on the calling goroutine, say, whose handler
// overran its time limit. asgo's server offers one to every HTTP call off the event
// loop; an app finds it with DetacherOf.
//
// Detach ends the call as if the app had returned err: the server applies its failure
// policy to err (nil means the response is complete), finishes the request and goes on
// (the connection's next request may start) while the app's goroutine runs on. The app
// must not use the call's Receive or Send once it called Detach. Only the first of
// Detach and the app's return counts. Detach is safe to call from any goroutine.
type Detacher interface {
	Detach(err error)
}

// DetachKey is the context key under which a server offers its Detacher.
type DetachKey struct{}

// DetacherOf returns the Detacher the server offers in ctx, if it offers one.
func DetacherOf(ctx context.Context) (Detacher, bool) {
	d, ok := ctx.Value(DetachKey{}).(Detacher)
	return d, ok
}
