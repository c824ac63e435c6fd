package asgi

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPreparedMessageEncodesOncePerKey: concurrent senders asking for the same key
// share one encoding; another key gets its own; errors are kept.
func TestPreparedMessageEncodesOncePerKey(t *testing.T) {
	pm := NewPreparedMessage([]byte("hello"), true)
	var calls atomic.Int32
	encode := func(data []byte, text bool) (any, error) {
		calls.Add(1)
		return append([]byte{0x81, byte(len(data))}, data...), nil
	}
	var wg sync.WaitGroup
	results := make([]any, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = pm.Encoding("plain", encode)
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("%d encodings for one key", calls.Load())
	}
	for _, r := range results[1:] {
		if &r.([]byte)[0] != &results[0].([]byte)[0] {
			t.Fatal("callers got different encodings")
		}
	}
	boom := errors.New("boom")
	fail := func([]byte, bool) (any, error) { calls.Add(1); return nil, boom }
	for range 2 {
		if _, err := pm.Encoding("other", fail); err != boom {
			t.Fatalf("err %v", err)
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("%d encodings for two keys", calls.Load())
	}
}

type plainSender struct{ got Message }

func (s *plainSender) SendNow(m Message) error { s.got = m; return nil }

// TestSendPreparedFallsBack: a sender without PreparedSender gets a websocket.send.
func TestSendPreparedFallsBack(t *testing.T) {
	s := &plainSender{}
	if err := SendPrepared(s, NewPreparedMessage([]byte("x"), false)); err != nil {
		t.Fatal(err)
	}
	if m, ok := s.got.(*WebSocketSend); !ok || string(m.Data) != "x" || m.Text {
		t.Fatalf("got %#v", s.got)
	}
}
