package eventloop

import "time"

// timerWheel is a hashed timing wheel with intrusive nodes: arming, re-arming and
// cancelling a timer are O(1) and allocation-free, which matters because every request
// re-arms its connection's timer. Owned by the loop goroutine.
type timerWheel struct {
	slots [wheelSlots]timerNode // sentinel heads of circular lists
	tick  time.Duration
	now   int64 // tick count processed so far
}

const wheelSlots = 512

// timerNode is embedded in each connection; a connection has one timer at a time.
type timerNode struct {
	prev, next *timerNode
	when       int64 // the tick of the slot the node is linked in
	due        int64 // the deadline in ticks: when, or later (arm moved it, see there)
	owner      *conn
}

func (w *timerWheel) init(tick time.Duration, now time.Time) {
	w.tick = tick
	w.now = now.UnixNano() / int64(tick)
	for i := range w.slots {
		w.slots[i].prev = &w.slots[i]
		w.slots[i].next = &w.slots[i]
	}
}

// arm (re)schedules n to fire at or after deadline.
func (w *timerWheel) arm(n *timerNode, deadline time.Time) { w.armAt(n, deadline.UnixNano()) }

// armAt (re)schedules n to fire at or after deadline (Unix nanoseconds). A deadline
// later than the one n is linked for only moves n.due: the node is moved when the wheel
// reaches its slot (advance). Every request of a keep-alive connection moves its
// timer later twice (the head's deadline, then the idle one), and relinking a node
// writes to its neighbours, other connections' nodes, so most requests now write to
// their own node alone.
func (w *timerWheel) armAt(n *timerNode, deadline int64) {
	due := max((deadline+int64(w.tick)-1)/int64(w.tick), w.now+1)
	if n.next != nil && n.when <= due {
		n.due = due
		return
	}
	w.disarm(n)
	w.link(n, due)
}

// link puts n in the slot of tick when.
func (w *timerWheel) link(n *timerNode, when int64) {
	n.when, n.due = when, when
	head := &w.slots[when%wheelSlots]
	n.prev, n.next = head.prev, head
	head.prev.next = n
	head.prev = n
}

func (w *timerWheel) disarm(n *timerNode) {
	if n.next == nil {
		return
	}
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
}

// advance fires every node whose deadline is at or before now, calling fire for each
// after unlinking it (fire may re-arm).
func (w *timerWheel) advance(now time.Time, fire func(*conn)) {
	target := now.UnixNano() / int64(w.tick)
	if target-w.now > wheelSlots {
		w.now = target - wheelSlots // every slot gets visited once
	}
	for w.now < target {
		w.now++
		head := &w.slots[w.now%wheelSlots]
		for n := head.next; n != head; {
			next := n.next
			if n.when <= w.now {
				w.disarm(n)
				if n.due > w.now {
					w.link(n, n.due) // moved later by arm: not due yet
				} else {
					fire(n.owner)
				}
			}
			n = next
		}
	}
}
