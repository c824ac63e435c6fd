// Package wsload is a closed-loop WebSocket echo client: N connections each send one message,
// wait for its echo, and repeat, for a warm-up and then a measured interval. No standard
// load generator does this, so it is ours; it is kept cheap per message (frames are masked
// once and reused) so that it saturates later than the servers it measures.
//
// Run is safe for concurrent use; each call owns its connections.
package wsload
