// Package metrics exports a server's counters in the Prometheus text format, on a
// listener of its own (asgo's --metrics-bind): /metrics and /healthz, so that metrics
// never mix with the app's routes.
//
// It owns the Prometheus side only: the Collector turns the event loops' counters
// (eventloop.Server.Stats, summed over the loops at scrape time) and the WSGI-style
// pools' occupancy (the Pool interface, which apps/wsgi's *Pool satisfies without
// importing this package) into metrics, and adds the Go runtime and process
// collectors. Nothing on the request path calls into this package.
package metrics
