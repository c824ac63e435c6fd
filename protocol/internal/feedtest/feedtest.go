// Package feedtest feeds a sans-I/O parser in tests the way the event loop does: input
// arrives in pieces (whole, byte by byte, or in random chunks), each piece is appended
// to the unconsumed tail, and the parser is called until it needs more input. The
// protocol packages (h1, uwsgi) share it for their table and fuzz tests.
package feedtest

import "fmt"

// Parse is one call of the parser on the unconsumed bytes: it returns how many it
// consumed, whether it reported no event (it needs more input), and its error. The
// caller records the events it sees.
type Parse func(buf []byte) (n int, none bool, err error)

// Feed runs input through parse, appending the next piece (its size from next, given
// the bytes remaining) to the unconsumed tail and moving the tail to a fresh buffer
// every few steps, so a slice the parser kept from an earlier call would be caught. It
// stops at the first error and returns the number of bytes never consumed with it. A
// parser that makes no progress panics.
func Feed(input []byte, next func(remaining int) int, parse Parse) (leftover int, err error) {
	var buf []byte
	rest := input
	for guard := 0; guard < 4*len(input)+100; guard++ {
		if err := drain(&buf, parse); err != nil || len(rest) == 0 {
			return len(buf), err
		}
		k := next(len(rest))
		if guard%8 == 0 {
			buf = append([]byte(nil), buf...) // move the tail, as a growing buffer would
		}
		buf, rest = append(buf, rest[:k]...), rest[k:]
	}
	panic("feedtest: no progress")
}

// drain calls parse until it needs input or fails.
func drain(buf *[]byte, parse Parse) error {
	for i := 0; ; i++ {
		if i > len(*buf)+10 {
			panic("feedtest: parser loops without progress")
		}
		n, none, err := parse(*buf)
		if n < 0 || n > len(*buf) {
			panic(fmt.Sprintf("feedtest: Parse consumed %d of %d bytes", n, len(*buf)))
		}
		if err != nil {
			return err
		}
		*buf = (*buf)[n:]
		if none && n == 0 {
			return nil
		}
	}
}
