package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/asgo-dev/asgo/eventloop"
)

// Source is what the Collector reads: *eventloop.Server.
type Source interface {
	// Stats fills st with the server's counters; safe for concurrent use.
	Stats(st *eventloop.Stats)
	// Draining reports whether the server has begun its graceful shutdown.
	Draining() bool
}

// Pool is the occupancy of a worker pool that runs blocking handlers (apps/wsgi's
// *Pool has these methods). Its methods must be safe for concurrent use.
type Pool interface {
	Workers() int     // worker goroutines
	Busy() int        // workers running a job now
	Queued() int      // admitted jobs waiting for a worker
	Backlog() int     // how many jobs may wait
	Rejected() uint64 // jobs refused because every worker was busy and the queue full
}

var (
	descRequests = prometheus.NewDesc("asgo_http_requests_total",
		"HTTP requests that reached the app and ended, by protocol, method and status class (none: the client left before a status).",
		[]string{"protocol", "method", "status"}, nil)
	descInFlight = prometheus.NewDesc("asgo_http_requests_in_flight",
		"HTTP requests started and not yet ended.", nil, nil)
	descDuration = prometheus.NewDesc("asgo_http_request_duration_seconds",
		"Time from a request's head to its app's return, by protocol.", []string{"protocol"}, nil)
	descConns = prometheus.NewDesc("asgo_connections_open",
		"Open connections, by the protocol they speak now.", []string{"protocol"}, nil)
	descWSMessages = prometheus.NewDesc("asgo_websocket_messages_total",
		"WebSocket messages received from peers (in) and sent by apps (out).", []string{"direction"}, nil)
	descWSBytes = prometheus.NewDesc("asgo_websocket_bytes_total",
		"WebSocket message payload bytes (uncompressed) received (in) and sent (out).", []string{"direction"}, nil)
	descH2Streams = prometheus.NewDesc("asgo_http2_streams_total",
		"HTTP/2 streams that carried a request.", nil, nil)
	descH2Resets = prometheus.NewDesc("asgo_http2_resets_total",
		"HTTP/2 RST_STREAM frames sent and received.", []string{"direction"}, nil)
	descH2GoAways = prometheus.NewDesc("asgo_http2_goaways_total",
		"HTTP/2 GOAWAY frames sent and received.", []string{"direction"}, nil)
	descRejections = prometheus.NewDesc("asgo_rejections_total",
		"Requests and connections the server refused on its own, by cause.", []string{"cause"}, nil)
	descExecWorkers = prometheus.NewDesc("asgo_executor_goroutines",
		"Goroutines of the executor that runs apps off the event loops.", nil, nil)
	descExecBusy = prometheus.NewDesc("asgo_executor_busy",
		"Executor goroutines running an app now.", nil, nil)
	descLag = prometheus.NewDesc("asgo_event_loop_lag_seconds",
		"How late each event loop's 10 ms tick ran after it was scheduled.", nil, nil)
	descLoops      = prometheus.NewDesc("asgo_event_loops", "Event loops.", nil, nil)
	descLogDropped = prometheus.NewDesc("asgo_access_log_dropped_total",
		"Access-log lines dropped because the file's queue was full.", nil, nil)
	descDraining = prometheus.NewDesc("asgo_draining",
		"1 while the server drains for shutdown, else 0.", nil, nil)
	descPoolWorkers = prometheus.NewDesc("asgo_wsgi_pool_workers",
		"Places of the WSGI-style pools: how many handlers they run at once (on their workers or on the server's calls).", nil, nil)
	descPoolBusy = prometheus.NewDesc("asgo_wsgi_pool_busy",
		"WSGI-style pool places running a handler now.", nil, nil)
	descPoolQueued = prometheus.NewDesc("asgo_wsgi_pool_queued",
		"Requests waiting for a WSGI-style pool place.", nil, nil)
	descPoolBacklog = prometheus.NewDesc("asgo_wsgi_pool_backlog",
		"Requests that may wait for a WSGI-style pool place (the queue's capacity).", nil, nil)
	descPoolRejected = prometheus.NewDesc("asgo_wsgi_pool_rejected_total",
		"Requests refused with 503 because every WSGI-style pool place was busy and the queue full.", nil, nil)
)

// Collector is a prometheus.Collector of a server's counters and its pools'
// occupancy, read at each scrape. Safe for concurrent use.
type Collector struct {
	src   Source
	pools func() []Pool

	mu sync.Mutex
	st eventloop.Stats // Guarded by mu: reused by every scrape
}

// NewCollector returns a Collector of src; pools, if not nil, lists the pools to
// report at each scrape (summed over them).
func NewCollector(src Source, pools func() []Pool) *Collector {
	return &Collector{src: src, pools: pools}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descInFlight, descDuration, descConns, descWSMessages,
		descWSBytes, descH2Streams, descH2Resets, descH2GoAways, descRejections, descExecWorkers, descExecBusy,
		descLag, descLoops, descDraining, descLogDropped} {
		ch <- d
	}
	if c.pools != nil {
		for _, d := range []*prometheus.Desc{descPoolWorkers, descPoolBusy, descPoolQueued, descPoolBacklog, descPoolRejected} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &c.st
	c.src.Stats(st)
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for p := range st.Requests {
		for m := range st.Requests[p] {
			for s, n := range st.Requests[p][m] {
				if n > 0 { // only the combinations seen: 180 mostly empty series otherwise
					counter(descRequests, n, eventloop.ProtocolNames[p], eventloop.MethodNames[m], eventloop.StatusClassNames[s])
				}
			}
		}
		ch <- histogram(descDuration, &st.Duration[p], eventloop.DurationBuckets[:], eventloop.ProtocolNames[p])
	}
	gauge(descInFlight, st.InFlight)
	for p, n := range st.Connections {
		gauge(descConns, n, eventloop.ProtocolNames[p])
	}
	counter(descWSMessages, st.WebSocketMessagesIn, "in")
	counter(descWSMessages, st.WebSocketMessagesOut, "out")
	counter(descWSBytes, st.WebSocketBytesIn, "in")
	counter(descWSBytes, st.WebSocketBytesOut, "out")
	counter(descH2Streams, st.H2Streams)
	counter(descH2Resets, st.H2ResetsSent, "sent")
	counter(descH2Resets, st.H2ResetsReceived, "received")
	counter(descH2GoAways, st.H2GoAwaysSent, "sent")
	counter(descH2GoAways, st.H2GoAwaysReceived, "received")
	for cause, n := range st.Rejections {
		counter(descRejections, n, eventloop.RejectCauseNames[cause])
	}
	gauge(descExecWorkers, st.ExecutorWorkers)
	gauge(descExecBusy, st.ExecutorBusy)
	ch <- histogram(descLag, &st.LoopLag, eventloop.LagBuckets[:])
	gauge(descLoops, int64(st.Loops))
	counter(descLogDropped, uint64(st.AccessLogDropped))
	draining := int64(0)
	if c.src.Draining() {
		draining = 1
	}
	gauge(descDraining, draining)
	if c.pools != nil {
		c.collectPools(ch)
	}
}

func (c *Collector) collectPools(ch chan<- prometheus.Metric) {
	var workers, busy, queued, backlog int
	var rejected uint64
	for _, p := range c.pools() {
		workers += p.Workers()
		busy += p.Busy()
		queued += p.Queued()
		backlog += p.Backlog()
		rejected += p.Rejected()
	}
	for _, g := range []struct {
		d *prometheus.Desc
		v int
	}{{descPoolWorkers, workers}, {descPoolBusy, busy}, {descPoolQueued, queued}, {descPoolBacklog, backlog}} {
		ch <- prometheus.MustNewConstMetric(g.d, prometheus.GaugeValue, float64(g.v))
	}
	ch <- prometheus.MustNewConstMetric(descPoolRejected, prometheus.CounterValue, float64(rejected))
}

// histogram turns h (per-bucket counts, the last +Inf; missing ones count 0) into a
// constant Prometheus histogram (cumulative counts).
func histogram(d *prometheus.Desc, h *eventloop.Histogram, bounds []float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var cum uint64
	for i, b := range bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count(), h.Sum, buckets, labels...)
}
