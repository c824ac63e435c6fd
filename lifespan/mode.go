package lifespan

import (
	"fmt"
	"strings"
)

// Mode selects whether and how strictly the lifespan protocol runs.
type Mode uint8

// Lifespan modes, as uvicorn's --lifespan.
const (
	Auto Mode = iota // run it; an app that does not support it is logged and ignored
	On               // run it; an app that does not support it is an error
	Off              // never send lifespan events
)

// String returns "auto", "on" or "off".
func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case On:
		return "on"
	case Off:
		return "off"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode parses "auto", "on" or "off" (any case).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "auto":
		return Auto, nil
	case "on":
		return On, nil
	case "off":
		return Off, nil
	}
	return Auto, fmt.Errorf("lifespan: unknown mode %q (want auto, on or off)", s)
}
