package eventloop

import (
	"sync/atomic"
	"time"

	"github.com/asgo-dev/asgo/protocol/h2"
)

// Server statistics (Config.Stats, Server.Stats): plain counters per loop, added up
// when they are read. The hot paths do no map lookup and take no lock for them: a
// request adds one to a fixed slot of its loop's arrays (protocol x method x status
// class, a duration bucket). The fields are atomic because HTTP/2 streams and
// WebSockets finish on executor goroutines as well as on the loop, and because Stats
// reads them from any goroutine; an uncontended atomic add on the loop's own cache
// lines costs a few nanoseconds. A server without Config.Stats has no loopStats
// (nil), and every method below does nothing on nil.

// Protocol indexes of Stats.Requests, Stats.Duration (the first NumRequestProtocols)
// and Stats.Connections (all of them).
const (
	ProtoHTTP1 = iota
	ProtoHTTP2
	ProtoUWSGI
	ProtoWebSocket // connections only

	NumRequestProtocols = ProtoWebSocket
	NumProtocols        = ProtoWebSocket + 1
)

// ProtocolNames are the label values of the protocol indexes.
var ProtocolNames = [NumProtocols]string{"http/1.1", "h2", "uwsgi", "websocket"}

// MethodNames are the methods counted one by one, by index; every other method is
// counted as "other" (the last index), so the set of labels stays bounded.
var MethodNames = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"}

// NumMethods is the number of method indexes.
const NumMethods = len(MethodNames)

// StatusClassNames are the label values of the status-class indexes: "none" for a
// request that got no response status (its client left first), then 1xx to 5xx.
var StatusClassNames = [...]string{"none", "1xx", "2xx", "3xx", "4xx", "5xx"}

// NumStatusClasses is the number of status-class indexes.
const NumStatusClasses = len(StatusClassNames)

// Rejection causes: requests and connections the server refused on its own.
const (
	RejectConcurrency    = iota // 503 beyond Config.LimitConcurrency
	RejectConnections           // 503 beyond Config.MaxConnections
	RejectDraining              // 503 to a connection opened during the drain
	RejectHeaderTooLarge        // 431
	RejectBodyTooLarge          // 413
	RejectBadRequest            // 400 and the parser's other errors (505, 501)
	RejectTimeout               // 408: request head or body too slow; an HTTP/2 preface that never came
	RejectHandshake             // WebSocket handshake refused (400, 403, 426)
	RejectSpool                 // 503: the request-body spool is full or failed
	NumRejectCauses
)

// RejectCauseNames are the label values of the rejection causes.
var RejectCauseNames = [NumRejectCauses]string{"concurrency_limit", "connection_limit", "draining",
	"header_too_large", "body_too_large", "bad_request", "timeout", "handshake", "spool"}

// DurationBuckets are the upper bounds, in seconds, of the request-duration histogram
// buckets (a last bucket, +Inf, takes the rest).
var DurationBuckets = [...]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// LagBuckets are the upper bounds, in seconds, of the event-loop lag histogram.
var LagBuckets = [...]float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

var (
	durationBounds = bounds(DurationBuckets[:])
	lagBounds      = bounds(LagBuckets[:])
)

func bounds(secs []float64) []time.Duration {
	b := make([]time.Duration, len(secs))
	for i, s := range secs {
		b[i] = time.Duration(s * float64(time.Second))
	}
	return b
}

// Histogram is a snapshot of a histogram: Counts[i] observations fell in bucket i
// (not cumulative; the last is +Inf), Sum is their total in seconds.
type Histogram struct {
	Counts []uint64
	Sum    float64
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Stats is a snapshot of a server's counters (Server.Stats). Counters only grow;
// InFlight, Connections and the Executor fields are current values.
type Stats struct {
	// Requests counts the requests that reached the app and ended, by protocol,
	// method and the status class the client got.
	Requests [NumRequestProtocols][NumMethods][NumStatusClasses]uint64
	// InFlight is the number of requests started and not yet ended.
	InFlight int64
	// Duration is, per protocol, the time from a request's head to its app's return
	// (inline apps: to the loop's traffic-callback clock).
	Duration [NumRequestProtocols]Histogram
	// Connections is the number of open connections, by the protocol they speak now.
	Connections [NumProtocols]int64
	// WebSocket messages and their payload bytes (after decompression, before
	// compression), received from peers and sent by apps.
	WebSocketMessagesIn, WebSocketMessagesOut uint64
	WebSocketBytesIn, WebSocketBytesOut       uint64
	// HTTP/2: streams that carried a request, RST_STREAM and GOAWAY frames.
	H2Streams                        uint64
	H2ResetsSent, H2ResetsReceived   uint64
	H2GoAwaysSent, H2GoAwaysReceived uint64
	// Rejections counts what the server refused on its own, by cause.
	Rejections [NumRejectCauses]uint64
	// ExecutorWorkers is the number of executor goroutines, ExecutorBusy how many run
	// an app now (the rest idle, waiting for work).
	ExecutorWorkers, ExecutorBusy int64
	// LoopLag is how late each loop's 10 ms tick ran after it was scheduled.
	LoopLag Histogram
	// Loops is the number of event loops counted.
	Loops int
	// AccessLogDropped counts the access-log lines dropped because the file's queue
	// was full (Config.AccessLogFile or AccessLogWriter).
	AccessLogDropped int64
}

// Stats fills st with the server's counters, summed over its loops (zero without
// Config.Stats, except the executor's). It allocates st's histogram slices the first
// time only, so a caller that reuses st scrapes without allocating. Safe for
// concurrent use.
func (s *Server) Stats(st *Stats) {
	s.statsMu.Lock()
	all := s.allStats
	s.statsMu.Unlock()
	hists := [NumRequestProtocols + 1]*Histogram{}
	for p := range st.Duration {
		hists[p] = &st.Duration[p]
	}
	hists[NumRequestProtocols] = &st.LoopLag
	for i, h := range hists {
		n := len(durationBounds) + 1
		if i == NumRequestProtocols {
			n = len(lagBounds) + 1
		}
		if len(h.Counts) != n {
			h.Counts = make([]uint64, n)
		}
		clear(h.Counts)
		h.Sum = 0
	}
	var started, done uint64
	*st = Stats{Duration: st.Duration, LoopLag: st.LoopLag, Loops: len(all)}
	// Ended requests are read before started ones: every request starts before it
	// ends, so InFlight never comes out negative.
	for _, l := range all {
		done += l.read(st)
	}
	for _, l := range all {
		for p := range l.started {
			started += l.started[p].Load()
		}
	}
	st.InFlight = int64(started - done)
	st.ExecutorWorkers, st.ExecutorBusy = s.exec.workers.Load(), s.exec.busy.Load()
	if s.access != nil && s.access.w != nil {
		st.AccessLogDropped = s.access.w.droppedTotal.Load()
	}
}

// Draining reports whether Shutdown has begun. Safe for concurrent use.
func (s *Server) Draining() bool { return s.draining.Load() }

// newLoopStats returns the counters of a new loop, kept by the server for good (a
// restarted engine gets new loops; their counts add to the old ones'), or nil
// without Config.Stats.
func (s *Server) newLoopStats() *loopStats {
	if !s.cfg.Stats {
		return nil
	}
	ls := new(loopStats)
	s.statsMu.Lock()
	s.allStats = append(s.allStats, ls)
	s.statsMu.Unlock()
	return ls
}

// loopStats are one loop's counters. Written by the loop and by executor goroutines
// running its connections' apps; read by Server.Stats.
type loopStats struct {
	requests [NumRequestProtocols][NumMethods][NumStatusClasses]atomic.Uint64
	started  [NumRequestProtocols]atomic.Uint64
	duration [NumRequestProtocols]histogram
	conns    [NumProtocols]atomic.Int64

	wsMsgIn, wsMsgOut, wsBytesIn, wsBytesOut atomic.Uint64

	h2Streams atomic.Uint64
	h2        h2.Counters

	rejections [NumRejectCauses]atomic.Uint64
	lag        histogram
}

// histogram counts observations in fixed buckets; the bucket bounds are the caller's.
type histogram struct {
	counts [len(DurationBuckets) + 1]atomic.Uint64 // the lag uses the first len(LagBuckets)+1
	sum    atomic.Int64                            // nanoseconds
}

func (h *histogram) observe(d time.Duration, bounds []time.Duration) {
	d = max(d, 0) // a start read from a finer clock than the end (an inline HTTP/2 stream)
	i := 0
	for i < len(bounds) && d > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

func (h *histogram) read(out *Histogram) {
	for i := range out.Counts {
		out.Counts[i] += h.counts[i].Load()
	}
	out.Sum += time.Duration(h.sum.Load()).Seconds()
}

// read adds the loop's counters to st and returns how many requests ended.
func (ls *loopStats) read(st *Stats) (done uint64) {
	for p := range ls.requests {
		for m := range ls.requests[p] {
			for c := range ls.requests[p][m] {
				n := ls.requests[p][m][c].Load()
				st.Requests[p][m][c] += n
				done += n
			}
		}
		ls.duration[p].read(&st.Duration[p])
	}
	for p := range ls.conns {
		st.Connections[p] += ls.conns[p].Load()
	}
	st.WebSocketMessagesIn += ls.wsMsgIn.Load()
	st.WebSocketMessagesOut += ls.wsMsgOut.Load()
	st.WebSocketBytesIn += ls.wsBytesIn.Load()
	st.WebSocketBytesOut += ls.wsBytesOut.Load()
	st.H2Streams += ls.h2Streams.Load()
	st.H2ResetsSent += ls.h2.ResetsSent.Load()
	st.H2ResetsReceived += ls.h2.ResetsReceived.Load()
	st.H2GoAwaysSent += ls.h2.GoAwaysSent.Load()
	st.H2GoAwaysReceived += ls.h2.GoAwaysReceived.Load()
	for i := range ls.rejections {
		st.Rejections[i] += ls.rejections[i].Load()
	}
	st.Rejections[RejectHeaderTooLarge] += ls.h2.HeadersTooLarge.Load()
	ls.lag.read(&st.LoopLag)
	return done
}

// requestStarted counts a request whose app is about to run.
func (ls *loopStats) requestStarted(proto int) {
	if ls != nil {
		ls.started[proto].Add(1)
	}
}

// requestDone counts a request that ended with status (0: none sent) after d. Callers
// on the loop take the end time from loop.clock, read once per traffic callback:
// time.Now costs 100-700 ns on loaded VMs, a few per cent of a small request.
func (ls *loopStats) requestDone(proto int, method string, status int, d time.Duration) {
	if ls == nil {
		return
	}
	ls.requests[proto][methodIndex(method)][statusClass(status)].Add(1)
	ls.duration[proto].observe(d, durationBounds)
}

func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "DELETE":
		return 4
	case "PATCH":
		return 5
	case "OPTIONS":
		return 6
	case "CONNECT":
		return 7
	case "TRACE":
		return 8
	}
	return NumMethods - 1
}

func statusClass(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// reject counts a refusal.
func (ls *loopStats) reject(cause int) {
	if ls != nil {
		ls.rejections[cause].Add(1)
	}
}

// rejectStatus counts a refusal answered with an HTTP/1.x error status.
func (ls *loopStats) rejectStatus(status int) {
	switch status {
	case 431:
		ls.reject(RejectHeaderTooLarge)
	case 413:
		ls.reject(RejectBodyTooLarge)
	case 408:
		ls.reject(RejectTimeout)
	case 503:
		ls.reject(RejectConcurrency)
	default:
		ls.reject(RejectBadRequest)
	}
}

// sessionProto is the protocol a connection with session s speaks.
func sessionProto(s session) int {
	switch s.(type) {
	case *h2Session:
		return ProtoHTTP2
	case *wsSession:
		return ProtoWebSocket
	case *uwsgiSession:
		return ProtoUWSGI
	}
	return ProtoHTTP1
}

func (ls *loopStats) connOpened(s session) {
	if ls != nil {
		ls.conns[sessionProto(s)].Add(1)
	}
}

func (ls *loopStats) connClosed(s session) {
	if ls != nil {
		ls.conns[sessionProto(s)].Add(-1)
	}
}

// connSwitched moves a connection's count from its session from to to.
func (ls *loopStats) connSwitched(from, to session) {
	if ls != nil {
		ls.conns[sessionProto(from)].Add(-1)
		ls.conns[sessionProto(to)].Add(1)
	}
}

func (ls *loopStats) wsIn(n int) {
	if ls != nil {
		ls.wsMsgIn.Add(1)
		ls.wsBytesIn.Add(uint64(n))
	}
}

func (ls *loopStats) wsOut(n int) {
	if ls != nil {
		ls.wsMsgOut.Add(1)
		ls.wsBytesOut.Add(uint64(n))
	}
}

func (ls *loopStats) h2Stream() {
	if ls != nil {
		ls.h2Streams.Add(1)
	}
}

// h2Counters returns the counters an HTTP/2 connection of the loop counts its resets
// and GOAWAYs in (nil without Config.Stats).
func (ls *loopStats) h2Counters() *h2.Counters {
	if ls == nil {
		return nil
	}
	return &ls.h2
}

// loopLag counts how late a tick ran.
func (ls *loopStats) loopLag(d time.Duration) {
	if ls != nil {
		ls.lag.observe(d, lagBounds)
	}
}

// countDoneLocked counts the ended request when its app has returned (finish, with
// c.mu held: the status is read under the lock finish already holds, so counting takes
// none of its own). A request answered inline ends at its traffic callback's clock.
func (st *h1Stream) countDoneLocked() {
	if ls := st.c.loop.stats; ls != nil {
		ls.requestDone(int(st.proto), st.scope.Method, st.status, time.Duration(endClock(st.c.loop, st.inline).UnixNano()-st.started))
	}
}

// countDoneLocked: see h1Stream's.
func (st *h2Stream) countDoneLocked() {
	if ls := st.c.loop.stats; ls != nil {
		ls.requestDone(ProtoHTTP2, st.scope.Method, st.status, endClock(st.c.loop, st.inline).Sub(st.started))
	}
}

// endClock is the end time of a request: the loop's callback clock when it ends on
// the loop (onLoop), else the time now.
func endClock(l *loop, onLoop bool) time.Time {
	if onLoop {
		return l.clock()
	}
	return time.Now()
}
