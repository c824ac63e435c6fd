package testutil

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitForReturnsOnceTrue(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			time.Sleep(time.Millisecond)
			n.Add(1)
		}
	}()
	WaitFor(t, 5*time.Second, "three increments", func() bool { return n.Load() == 3 })
}

// fatalRecorder records a Fatalf and ends the goroutine as testing.T does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = format
	if len(args) == 2 {
		r.msg = args[1].(string)
	}
	runtime.Goexit()
}

func TestWaitForFailsAfterTimeout(t *testing.T) {
	r := &fatalRecorder{TB: t}
	start := time.Now()
	done := make(chan struct{})
	go func() { // Goexit ends this goroutine, not the test's
		defer close(done)
		WaitFor(r, 30*time.Millisecond, "a condition that never holds", func() bool { return false })
	}()
	<-done
	if r.msg != "a condition that never holds" {
		t.Fatalf("failure %q, want the awaited condition named", r.msg)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 2*time.Second {
		t.Fatalf("failed after %v, want about the 30ms timeout", d)
	}
}

func TestLogBufferConcurrentWrites(t *testing.T) {
	var b LogBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("x"))
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 800) {
		t.Fatalf("got %d bytes, want 800", len(got))
	}
}
