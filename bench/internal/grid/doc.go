// Package grid is the benchmark harness: the scenarios, the servers that take part in each,
// the plan that alternates servers A B C over rounds, and the runner that starts a server
// pinned to one core, drives a load generator pinned to the other, and records throughput,
// latency, CPU time of both sides and resident memory per idle connection.
//
// A Runner is used by one goroutine at a time. Definitions (Scenarios, Servers) are read-only
// after init and safe for concurrent use.
package grid
