package asgi

import (
	"encoding/json"
	"maps"
	"testing"
)

func TestStateCopiesOnFirstWrite(t *testing.T) {
	lifespan := map[string]any{"db": "pool", "n": 1}
	s := NewState(lifespan)
	if s.Get("db") != "pool" || s.Len() != 2 {
		t.Fatalf("reads: db %v, len %d", s.Get("db"), s.Len())
	}
	child := *s // a shallow scope copy before any write shares nothing it could spoil
	s.Set("db", "mine")
	s.Set("extra", true)
	s.Delete("n")
	if lifespan["db"] != "pool" || lifespan["n"] != 1 || len(lifespan) != 2 {
		t.Fatalf("a request's writes reached the lifespan state: %v", lifespan)
	}
	if got := maps.Collect(s.All()); len(got) != 2 || got["db"] != "mine" || got["extra"] != true {
		t.Fatalf("state after writes: %v", got)
	}
	if child.Get("db") != "pool" {
		t.Fatalf("a copy taken before the write sees %v", child.Get("db"))
	}
	// A second write uses the copy made by the first.
	s.Set("db", "again")
	if lifespan["db"] != "pool" || s.Get("db") != "again" {
		t.Fatal("second write")
	}
}

func TestStateWithoutLifespan(t *testing.T) {
	s := NewState(nil)
	if _, ok := s.Lookup("x"); ok || s.Len() != 0 {
		t.Fatal("an empty state has keys")
	}
	s.Delete("x") // nothing to delete: no copy, no panic
	s.Set("x", 1)
	if s.Get("x") != 1 {
		t.Fatal("set on an empty state")
	}
	var none *State
	if none.Get("x") != nil || none.Len() != 0 || none.Map() != nil {
		t.Fatal("a nil State must read as empty")
	}
	for range none.All() {
		t.Fatal("a nil State has keys")
	}
}

func TestStateJSON(t *testing.T) {
	b, err := json.Marshal(&HTTPScope{State: NewState(map[string]any{"k": "v"})})
	if err != nil {
		t.Fatal(err)
	}
	var back HTTPScope
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.State.Get("k") != "v" {
		t.Fatalf("round trip: %s -> %v", b, back.State.Map())
	}
}

func TestStateReadsDoNotAllocate(t *testing.T) {
	lifespan := map[string]any{"db": "pool"}
	var s State
	allocs := testing.AllocsPerRun(100, func() {
		s.Reset(lifespan)
		_ = s.Get("db")
	})
	if allocs != 0 {
		t.Fatalf("%v allocations for a fresh state and a read", allocs)
	}
}
