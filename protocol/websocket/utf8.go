package websocket

import "unicode/utf8"

// utf8Stream validates UTF-8 incrementally over a message delivered in chunks that may
// split a multi-byte sequence. It fails at the first chunk that cannot be part of valid
// UTF-8 (so a bad fragment is refused before the message ends) and holds at most three
// bytes of an incomplete sequence between chunks.
type utf8Stream struct {
	carry [utf8.UTFMax]byte
	n     int
}

func (s *utf8Stream) reset() { s.n = 0 }

// write validates p, a continuation of the bytes seen so far.
func (s *utf8Stream) write(p []byte) bool {
	if s.n > 0 {
		var ok bool
		if p, ok = s.completeCarry(p); !ok {
			return false
		}
		if s.n > 0 { // still incomplete: p was consumed entirely
			return true
		}
	}
	cut := incompleteTail(p)
	if !utf8.Valid(p[:cut]) {
		return false
	}
	s.n = copy(s.carry[:], p[cut:])
	return true
}

// final reports whether the stream ended on a rune boundary.
func (s *utf8Stream) final() bool { return s.n == 0 }

// completeCarry appends bytes of p to the held incomplete sequence until it is a full
// rune (or p ends), validates it and returns the rest of p.
func (s *utf8Stream) completeCarry(p []byte) ([]byte, bool) {
	for len(p) > 0 && !utf8.FullRune(s.carry[:s.n]) {
		s.carry[s.n] = p[0]
		s.n++
		p = p[1:]
	}
	if !utf8.FullRune(s.carry[:s.n]) {
		return p, true
	}
	r, size := utf8.DecodeRune(s.carry[:s.n])
	if r == utf8.RuneError && size <= 1 || size != s.n {
		return p, false
	}
	s.n = 0
	return p, true
}

// incompleteTail returns the index where a trailing incomplete (but so far valid)
// multi-byte sequence starts, or len(p) when p does not end inside a sequence.
func incompleteTail(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(p[i]) {
			if !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}
