package lifespan

import (
	"errors"
	"fmt"
)

// ErrTimeout is wrapped by the error Startup or Shutdown return when the app did not
// reply within the configured timeout.
var ErrTimeout = errors.New("lifespan: timed out waiting for the app")

// ErrUnsupported is wrapped by the error Startup returns in On mode when the app does
// not support the lifespan protocol (it returned, panicked or sent an unexpected
// message before replying to lifespan.startup).
var ErrUnsupported = errors.New("lifespan: app does not support the lifespan protocol")

// ErrReused is returned by a second call of Startup: a Manager runs the protocol once.
var ErrReused = errors.New("lifespan: Startup called more than once")

// ErrExited is the Err of a Call's Reply when the app returned nil without replying
// to the phase's message.
var ErrExited = errors.New("lifespan: app returned before replying")

// FailedError reports lifespan.startup.failed or lifespan.shutdown.failed from the app.
// Message is the app's own text (possibly empty).
type FailedError struct {
	Phase   string // "startup" or "shutdown"
	Message string
}

func (e *FailedError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("lifespan: application %s failed", e.Phase)
	}
	return fmt.Sprintf("lifespan: application %s failed: %s", e.Phase, e.Message)
}
