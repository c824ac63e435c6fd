package eventloop

import "testing"

func TestLargeBufClasses(t *testing.T) {
	for _, tc := range []struct{ n, cap int }{
		{1, 128 << 10}, {128 << 10, 128 << 10}, {128<<10 + 1, 256 << 10},
		{1 << 20, 1 << 20}, {8 << 20, 8 << 20}, {8<<20 + 1, 8<<20 + 1},
	} {
		b := getLargeBuf(tc.n)
		if len(b) != 0 || cap(b) != tc.cap {
			t.Errorf("getLargeBuf(%d): len %d cap %d, want 0 and %d", tc.n, len(b), cap(b), tc.cap)
		}
		putLargeBuf(b) // a buffer outside the classes is dropped, not pooled
	}
}

func TestGrowForBodyKeepsPendingOutput(t *testing.T) {
	c := &conn{pending: []byte("HTTP/1.1 200 OK\r\n\r\n")}
	c.growForBody(1 << 10) // small: pending stays as it is
	if cap(c.pending) > maxSpareCap {
		t.Fatalf("a small body moved the output to a large buffer (cap %d)", cap(c.pending))
	}
	c.growForBody(1 << 20)
	if string(c.pending) != "HTTP/1.1 200 OK\r\n\r\n" || cap(c.pending) < len(c.pending)+1<<20 {
		t.Fatalf("pending %q cap %d", c.pending, cap(c.pending))
	}
}
