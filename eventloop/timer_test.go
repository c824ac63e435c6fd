package eventloop

import (
	"slices"
	"testing"
	"time"
)

// wheelAt is a wheel whose tick count starts at zero, with n connections' nodes.
func wheelAt(n int) (*timerWheel, []*conn) {
	w := &timerWheel{}
	w.init(10*time.Millisecond, time.Unix(0, 0))
	conns := make([]*conn, n)
	for i := range conns {
		conns[i] = &conn{}
		conns[i].timer.owner = conns[i]
	}
	return w, conns
}

// fired advances w to tick t and returns the indexes of the connections whose timer
// fired.
func fired(w *timerWheel, conns []*conn, t int64) []int {
	var out []int
	w.advance(time.Unix(0, t*int64(w.tick)), func(c *conn) { out = append(out, slices.Index(conns, c)) })
	return out
}

func tickNanos(w *timerWheel, t int64) int64 { return t * int64(w.tick) }

// TestTimerWheelMovesLaterAndEarlier: a deadline moved later fires at the later tick
// (the node moves when the wheel reaches its first slot), one moved earlier fires at
// the earlier tick, a disarmed one never fires, and deadlines beyond one turn of the
// wheel fire on the right turn.
func TestTimerWheelMovesLaterAndEarlier(t *testing.T) {
	w, conns := wheelAt(4)
	w.armAt(&conns[0].timer, tickNanos(w, 5))
	w.armAt(&conns[0].timer, tickNanos(w, 8)) // later: stays linked at 5
	if conns[0].timer.when != 5 || conns[0].timer.due != 8 {
		t.Fatalf("moved later: when %d due %d", conns[0].timer.when, conns[0].timer.due)
	}
	w.armAt(&conns[1].timer, tickNanos(w, 9))
	w.armAt(&conns[1].timer, tickNanos(w, 3)) // earlier: relinked
	w.armAt(&conns[2].timer, tickNanos(w, 4))
	w.disarm(&conns[2].timer)
	w.armAt(&conns[3].timer, tickNanos(w, 2*wheelSlots+7)) // two turns and more
	want := map[int64][]int{3: {1}, 8: {0}, 2*wheelSlots + 7: {3}}
	for tick := int64(1); tick <= 2*wheelSlots+10; tick++ {
		got := fired(w, conns, tick)
		if !slices.Equal(got, want[tick]) {
			t.Fatalf("tick %d fired %v, want %v", tick, got, want[tick])
		}
	}
}

// TestTimerWheelKeepAliveRearms: a connection re-armed many times per tick, later each
// time (as keep-alive requests do), fires once, at its last deadline; an arm for the
// past fires at the next tick.
func TestTimerWheelKeepAliveRearms(t *testing.T) {
	w, conns := wheelAt(1)
	n := &conns[0].timer
	last := int64(0)
	for tick := int64(1); tick <= 300; tick++ {
		if got := fired(w, conns, tick); len(got) != 0 {
			t.Fatalf("tick %d: fired while re-armed", tick)
		}
		for i := range 3 {
			last = tick + 500 - int64(i)*200 // head deadline, then an earlier idle one
			w.armAt(n, tickNanos(w, last))
		}
	}
	for tick := int64(301); tick < last; tick++ {
		if got := fired(w, conns, tick); len(got) != 0 {
			t.Fatalf("tick %d: fired before the deadline %d", tick, last)
		}
	}
	if got := fired(w, conns, last); len(got) != 1 {
		t.Fatalf("tick %d: fired %v, want the connection", last, got)
	}
	w.armAt(n, 0)
	if got := fired(w, conns, last+1); len(got) != 1 {
		t.Fatalf("an arm for the past: fired %v at the next tick", got)
	}
}

func TestTimerWheelArmAllocs(t *testing.T) {
	w, conns := wheelAt(2)
	i := int64(0)
	if n := testing.AllocsPerRun(100, func() {
		i++
		w.armAt(&conns[i%2].timer, tickNanos(w, 100+i))
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
