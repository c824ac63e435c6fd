// Package testutil holds helpers shared by the module's tests: waiting for a condition
// instead of sleeping, and a log buffer the server writes while the test reads it. It
// imports nothing of this module, so any package's tests may use it, eventloop's own
// included.
package testutil

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// maxPoll bounds the interval between two evaluations of a WaitFor condition.
const maxPoll = 50 * time.Millisecond

// WaitFor calls cond until it returns true and fails the test with what (the awaited
// condition, e.g. "the connection to close") when it has not within timeout. The
// interval between calls starts at 1 ms and doubles up to 50 ms, so a condition that
// holds soon is seen soon and a slow one is not polled hard. cond runs on the calling
// goroutine, which must be the test's: WaitFor calls t.Fatalf.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for poll := time.Millisecond; !cond(); poll = min(2*poll, maxPoll) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(poll)
	}
}

// LogBuffer collects log output written by other goroutines (a server's loops, an app's
// workers, a child process's pipe) while the test reads it. The zero value is empty and
// ready. Safe for concurrent use.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
