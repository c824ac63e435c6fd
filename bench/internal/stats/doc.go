// Package stats summarises repeated measurements (median, min, max) and records latencies
// in a fixed-size log-scale histogram whose percentiles are within 2% of the true value.
//
// Summary functions are pure. A Histogram is not safe for concurrent use: give each
// goroutine its own and Merge them.
package stats
