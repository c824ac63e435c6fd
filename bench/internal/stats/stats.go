package stats

import (
	"math"
	"slices"
	"time"
)

// Spread is the median, minimum and maximum of a set of values.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// Summarize returns the spread of vs; NaN values are ignored. The zero Spread (N == 0)
// means there was no value.
func Summarize(vs []float64) Spread {
	clean := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) {
			clean = append(clean, v)
		}
	}
	if len(clean) == 0 {
		return Spread{}
	}
	slices.Sort(clean)
	return Spread{Median: median(clean), Min: clean[0], Max: clean[len(clean)-1], N: len(clean)}
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// Ratio returns a/b, or NaN when either is missing (zero or NaN).
func Ratio(a, b float64) float64 {
	if a == 0 || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// growth is the width of one histogram bucket: each bucket's upper bound is 2% above the
// previous one, so a percentile read from a bucket is within 2% of the true value.
const growth = 1.02

// numBuckets covers 1 µs to beyond 1000 s at 2% resolution.
const numBuckets = 1100

var logGrowth = math.Log(growth)

// Histogram counts durations in log-scale buckets from 1 µs up; shorter durations land in the
// first bucket and longer than about 40 minutes in the last.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucket(d)]++
	h.total++
}

func bucket(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Ceil(math.Log(us) / logGrowth))
	return min(i, numBuckets-1)
}

// upper returns the upper bound of bucket i.
func upper(i int) time.Duration {
	return time.Duration(math.Pow(growth, float64(i)) * float64(time.Microsecond))
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// Count is the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.total }

// Percentile returns the upper bound of the bucket holding the p-th percentile (0 < p <= 100),
// or 0 when the histogram is empty.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return upper(i)
		}
	}
	return upper(numBuckets - 1)
}
