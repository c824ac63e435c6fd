// Package loadgen builds the command lines of the load generators (wrk, h2load and asgo's
// own benchload) and parses what they print into one Result.
//
// Everything here is pure or runs one child process per call; safe for concurrent use.
package loadgen
