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

func TestBufClassesWithin(t *testing.T) {
	for _, tc := range []struct{ least, most, cap int }{
		{1, 64 << 10, 64 << 10}, {1, 100 << 10, 64 << 10}, {64 << 10, 200 << 10, 128 << 10},
		{1, 64 << 20, 4 << 20}, {70 << 10, 100 << 10, 0}, {1, 10 << 10, 0},
	} {
		b, ok := bodyBufs.getWithin(tc.least, tc.most)
		if ok != (tc.cap > 0) || cap(b) != tc.cap || len(b) != 0 {
			t.Errorf("getWithin(%d, %d): ok %v len %d cap %d, want cap %d", tc.least, tc.most, ok, len(b), cap(b), tc.cap)
		}
		bodyBufs.put(b)
	}
}
