package asgi

// LifespanSendState is which lifespan reply, if any, the app may send next.
type LifespanSendState uint8

// States of the lifespan protocol as seen from the app's sends. The server moves from
// LifespanIdle to a waiting state when it sends lifespan.startup or lifespan.shutdown;
// the app's reply moves it back.
const (
	LifespanIdle         LifespanSendState = iota // no reply expected: no phase open, or the phase has ended
	LifespanStartingUp                            // lifespan.startup sent; startup complete or failed expected
	LifespanShuttingDown                          // lifespan.shutdown sent; shutdown complete or failed expected
)

func (s LifespanSendState) String() string {
	switch s {
	case LifespanIdle:
		return "idle"
	case LifespanStartingUp:
		return "starting-up"
	case LifespanShuttingDown:
		return "shutting-down"
	}
	return "invalid"
}

// lifespanTransitionError is uvicorn's wording for a lifespan reply that does not fit
// the phase.
const lifespanTransitionError = "Got invalid state transition on lifespan protocol."

// LifespanOrder checks the replies an app sends on a lifespan scope: exactly one per
// phase, of that phase's kind. The zero value expects no reply; the server sets State
// to LifespanStartingUp or LifespanShuttingDown when it opens a phase (before the app
// can see the message, so a reply sent at once is accepted), and back to LifespanIdle
// when it stops waiting for the phase without a reply (the app returned, a timeout).
// Not safe for concurrent use; servers call it under their own lock.
type LifespanOrder struct {
	State LifespanSendState
}

// Waiting reports whether a phase is open: the app owes a reply.
func (o *LifespanOrder) Waiting() bool { return o.State != LifespanIdle }

// Check validates msg against the current state. A reply that fits the open phase
// (lifespan.startup.complete or .failed while starting up, lifespan.shutdown.complete
// or .failed while shutting down) ends the phase: the state becomes LifespanIdle.
// Anything else, including any message while no phase is open, is a *ContractError
// worded as uvicorn's, e.g.
//
//	Got invalid state transition on lifespan protocol. Unexpected ASGI message 'lifespan.startup.complete'.
//
// On error the state is unchanged and the server applies its failure policy.
func (o *LifespanOrder) Check(msg Message) error {
	if !o.fits(msg) {
		return errInvalid("%s Unexpected ASGI message '%s'.", lifespanTransitionError, typeOf(msg))
	}
	o.State = LifespanIdle
	return nil
}

// fits reports whether msg is a reply the open phase accepts.
func (o *LifespanOrder) fits(msg Message) bool {
	switch msg.(type) {
	case *LifespanStartupComplete, *LifespanStartupFailed:
		return o.State == LifespanStartingUp
	case *LifespanShutdownComplete, *LifespanShutdownFailed:
		return o.State == LifespanShuttingDown
	}
	return false
}
