// Package report turns a benchmark run into files people would rather look at than read:
// results.json (everything, for tools), results.md (the environment header and one table per
// scenario with ratios and what limited each figure), charts as SVG and PNG (throughput
// against connections per server, memory per idle connection) and index.html showing both.
//
// Write is safe for concurrent use on different directories.
package report
