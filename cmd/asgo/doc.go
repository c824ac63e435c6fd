// Command asgo is asgo's CLI: it serves the built-in apps with the root package's
// command line (asgo.Command, the same flags a program using asgo.Run gets, plus --app)
// and runs the benchmark grid of bench/.
//
//	asgo serve [--app demo|hello|hello-goroutine] [--bind 127.0.0.1:8000]... [flags]
//	asgo bench [--bench-dir DIR] [benchgrid flags]
//	asgo version
package main
