// Package eventloop runs asgo's servers on gnet v2: it is the only package that imports
// gnet. It owns the engine (one event loop per core, SO_REUSEPORT listeners), the
// per-connection glue between gnet and the protocol state machines in protocol/...,
// write batching, backpressure, the per-loop timer wheel, the executor that runs apps
// on goroutines, and graceful drain.
//
// Threading model. gnet callbacks (OnOpen, OnTraffic, OnClose) and functions scheduled
// with Execute run on a loop goroutine; fields documented "owned by the loop" are only
// touched there. Apps run on executor goroutines (or, for scopes whose app implements
// asgi.Inliner, on the loop itself). An app's Send encodes into the connection's
// pending buffer under the connection's mutex and schedules one flush on the loop; its
// Receive reads a bounded per-stream inbox that the loop fills.
//
// gnet has no deadlines, no read pause and no drained event, and Close drops unsent
// output. So every timeout is a timer-wheel entry, inbound bytes are capped (request
// bodies that the app does not consume fast enough are spooled to a temporary file),
// Send blocks above a high-water mark of unsent bytes until the loop sees the output
// drained below the low-water mark, and connections are closed only after their output
// has been written.
package eventloop
