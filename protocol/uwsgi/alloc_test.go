package uwsgi

import "testing"

// TestParseZeroAllocs: after warm-up, parsing a whole nginx packet (header, 20 vars,
// body) allocates nothing.
func TestParseZeroAllocs(t *testing.T) {
	in := nginxPacket()
	var p Parser
	p.Init(Config{})
	run := func() {
		data := in
		for {
			n, ev, err := p.Parse(data)
			if err != nil {
				panic(err)
			}
			data = data[n:]
			if ev == EventEnd {
				return
			}
		}
	}
	run()
	if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
}

func BenchmarkParseNginxPacket(b *testing.B) {
	in := nginxPacket()
	var p Parser
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		data := in
		for {
			n, ev, err := p.Parse(data)
			if err != nil {
				b.Fatal(err)
			}
			data = data[n:]
			if ev == EventEnd {
				break
			}
		}
	}
}

func BenchmarkHTTPScope(b *testing.B) {
	in := nginxPacket()
	var p Parser
	p.Parse(in)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = p.Request().HTTPScope(ScopeDefaults{})
	}
}
