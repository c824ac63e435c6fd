package asgi

import (
	"encoding/json"
	"iter"
	"maps"
)

// State is a connection scope's copy of the lifespan state (ASGI's scope["state"]).
// It is copied lazily: reads go to the lifespan state until the first write (Set or
// Delete), which makes the State its own shallow copy first, so a request that only
// reads its state costs no copy. The lifespan state must not change once startup has
// completed (the lifespan package's rule), which is what makes sharing it safe.
//
// Scopes hold a *State, so a shallow copy of a scope (a mount's child scope) shares
// the state with its parent, as a shared dict does in Python. A nil *State reads as
// empty and panics on a write, as a nil map. Like a map, a State may be read by
// several goroutines at once but needs the caller's lock around a write that races
// with anything else.
type State struct {
	m      map[string]any
	copied bool // m is this State's own copy, not the lifespan state
}

// NewState returns a State reading through to lifespan, the lifespan scope's State.
func NewState(lifespan map[string]any) *State { return &State{m: lifespan} }

// Reset makes s read through to lifespan again, dropping its own copy. Servers use it
// to fill a State they allocated with the rest of a request.
func (s *State) Reset(lifespan map[string]any) { *s = State{m: lifespan} }

// Get returns the value of key, nil when there is none.
func (s *State) Get(key string) any {
	v, _ := s.Lookup(key)
	return v
}

// Lookup returns the value of key and whether there is one.
func (s *State) Lookup(key string) (any, bool) {
	if s == nil {
		return nil, false
	}
	v, ok := s.m[key]
	return v, ok
}

// Len returns the number of keys.
func (s *State) Len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}

// All returns the keys and values, in no particular order.
func (s *State) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if s == nil {
			return
		}
		for k, v := range s.m {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Set stores value under key in this State only.
func (s *State) Set(key string, value any) {
	s.own()[key] = value
}

// Delete removes key from this State only.
func (s *State) Delete(key string) {
	if _, ok := s.Lookup(key); ok {
		delete(s.own(), key)
	}
}

// own makes s's map its own copy (on the first write) and returns it.
func (s *State) own() map[string]any {
	if !s.copied {
		s.m, s.copied = maps.Clone(s.m), true
		if s.m == nil {
			s.m = make(map[string]any)
		}
	}
	return s.m
}

// Map returns a copy of the keys and values.
func (s *State) Map() map[string]any {
	if s == nil {
		return nil
	}
	return maps.Clone(s.m)
}

// MarshalJSON encodes s as a JSON object.
func (s *State) MarshalJSON() ([]byte, error) {
	if s == nil || s.m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(s.m)
}

// UnmarshalJSON replaces s's keys with a JSON object's, as its own copy.
func (s *State) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = State{m: m, copied: true}
	return nil
}
