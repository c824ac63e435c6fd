// Command asgo is the asgo server's CLI and composition root: it turns flags into the
// packages' Config structs, runs the lifespan, starts the event loops and turns
// SIGTERM / SIGINT into a graceful shutdown (a second signal exits at once).
//
//	asgo serve [--app demo] [--bind 127.0.0.1:8000]... [flags]
//	asgo bench [--bench-dir DIR] [benchgrid flags]
//	asgo version
package main
