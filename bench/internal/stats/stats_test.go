package stats

import (
	"math"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Spread
	}{
		{"empty", nil, Spread{}},
		{"odd", []float64{3, 1, 2}, Spread{Median: 2, Min: 1, Max: 3, N: 3}},
		{"even", []float64{4, 1, 2, 3}, Spread{Median: 2.5, Min: 1, Max: 4, N: 4}},
		{"NaN ignored", []float64{math.NaN(), 5}, Spread{Median: 5, Min: 5, Max: 5, N: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	if r := Ratio(3, 2); r != 1.5 {
		t.Fatalf("Ratio(3,2) = %v", r)
	}
	for _, c := range [][2]float64{{0, 1}, {1, 0}, {math.NaN(), 1}} {
		if r := Ratio(c[0], c[1]); !math.IsNaN(r) {
			t.Fatalf("Ratio(%v) = %v, want NaN", c, r)
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 500 * time.Millisecond}, {99, 990 * time.Millisecond}, {100, time.Second}} {
		got := h.Percentile(c.p)
		if got < c.want || float64(got) > float64(c.want)*growth {
			t.Errorf("p%v = %v, want within 2%% above %v", c.p, got, c.want)
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	var h, o Histogram
	if h.Percentile(50) != 0 {
		t.Fatal("empty histogram has a percentile")
	}
	h.Record(0)
	o.Record(time.Hour * 10)
	h.Merge(&o)
	if h.Count() != 2 {
		t.Fatalf("Count = %d", h.Count())
	}
	if h.Percentile(1) != time.Microsecond {
		t.Fatalf("p1 = %v", h.Percentile(1))
	}
	if h.Percentile(100) < 30*time.Minute {
		t.Fatalf("p100 = %v, want the last bucket", h.Percentile(100))
	}
}
