// Package procstat reads what the harness measures about a server from /proc: CPU time and
// resident memory of a process and all its descendants (Python servers fork workers, nginx
// runs beside asgo), and the open-file limit that bounds connection counts.
//
// Everything here is safe for concurrent use; it only reads /proc.
package procstat
