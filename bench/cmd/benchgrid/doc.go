// Command benchgrid runs asgo's benchmark grid against its peers and writes the report.
//
//	benchgrid -asgo ../bin/asgo                      # the full grid (make grid)
//	benchgrid -asgo ../bin/asgo -quick               # about a minute (make quick)
//	benchgrid -servers asgo,nethttp -scenarios h1-256,ws-100 -rounds 3
//	benchgrid -list                                  # servers and scenarios
//
// Each measurement starts the server pinned to core 0, warms it up, runs the load generator
// pinned to core 1, samples CPU time of both sides, and stops the server; servers alternate
// A B C over the rounds. Results go to -out as results.json, results.md, charts (SVG, PNG)
// and index.html; the tables are also printed on stdout and progress on stderr.
package main
