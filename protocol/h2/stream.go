package h2

// streamState is where a stream is in RFC 9113 section 5.1, seen from the server. The
// reserved states are never entered: asgo does not push.
type streamState uint8

const (
	stateIdle             streamState = iota
	stateOpen                         // both sides may send
	stateHalfClosedRemote             // the client ended its side; we still send
	stateHalfClosedLocal              // we ended our side; the client still sends
	stateClosed                       // both sides ended or the stream was reset
)

func (s streamState) String() string {
	switch s {
	case stateIdle:
		return "idle"
	case stateOpen:
		return "open"
	case stateHalfClosedRemote:
		return "half-closed(remote)"
	case stateHalfClosedLocal:
		return "half-closed(local)"
	case stateClosed:
		return "closed"
	}
	return "invalid"
}

// stream is the per-stream state. Guarded by the host's connection mutex, like Conn.
type stream struct {
	id    uint32
	state streamState

	// sendWin is what the peer lets us send on this stream (may go negative after a
	// SETTINGS_INITIAL_WINDOW_SIZE decrease).
	sendWin int64
	// recvWin is what the peer may still send before we grant more.
	recvWin int64
	// unconsumed counts body bytes handed to the host and not yet reported Consumed.
	unconsumed int64
	// credit counts consumed bytes not yet granted back with WINDOW_UPDATE.
	credit int64

	declaredLen int64 // content-length of the request, -1 if none
	receivedLen int64 // DATA payload bytes received

	released     bool // the host released the stream (its application finished)
	localReset   bool // we sent RST_STREAM: late frames from the peer are ignored
	respStarted  bool // response HEADERS sent
	wantTrailers bool // response trailers announced, END_STREAM comes with them
}

// transition moves st to the state `to`, checking the legal predecessor. Illegal moves
// are programming errors in this package and panic.
func (st *stream) transition(to streamState) {
	ok := false
	switch to {
	case stateOpen, stateHalfClosedRemote:
		ok = st.state == stateIdle || to == stateHalfClosedRemote && st.state == stateOpen
	case stateHalfClosedLocal:
		ok = st.state == stateOpen
	case stateClosed:
		ok = true
	}
	if !ok {
		panic("h2: illegal stream transition " + st.state.String() + " -> " + to.String())
	}
	st.state = to
}

// remoteOpen reports whether the client may still send DATA or trailers.
func (st *stream) remoteOpen() bool {
	return st.state == stateOpen || st.state == stateHalfClosedLocal
}

// localOpen reports whether we may still send on the stream.
func (st *stream) localOpen() bool {
	return st.state == stateOpen || st.state == stateHalfClosedRemote
}

// endRemote records END_STREAM from the client.
func (st *stream) endRemote() {
	if st.state == stateOpen {
		st.transition(stateHalfClosedRemote)
	} else {
		st.transition(stateClosed)
	}
}

// endLocal records END_STREAM sent by us.
func (st *stream) endLocal() {
	if st.state == stateOpen {
		st.transition(stateHalfClosedLocal)
	} else {
		st.transition(stateClosed)
	}
}
