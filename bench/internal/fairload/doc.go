// Package fairload measures how fairly a server shares one event loop: a bystander
// connection times sequential HTTP/1.1 GET round trips, first alone and then while flood
// connections load the same server (pipelined GETs in large batches, and large POST
// uploads to an echo route).
//
// The bystander and the floods are meant to run in separate processes (benchload fairness
// and its child benchload flood), so that the floods' CPU does not delay the bystander's
// goroutine inside one Go scheduler: what is measured is the server, not the client.
//
// A Bystander and a Flood each own their connections and are driven by one goroutine.
package fairload
