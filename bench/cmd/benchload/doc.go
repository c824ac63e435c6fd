// Command benchload is asgo's own load client, for the two jobs no standard tool does:
//
//	benchload ws   -url ws://127.0.0.1:8000/ws -conns 1000 -size 128 -warmup 1s -duration 3s
//	benchload idle -url http://127.0.0.1:8000/ -mode h1|h2|ws -conns 10000
//
// It speaks to the harness on stdout: "EVENT start" and "EVENT end" bracket the measured
// interval of ws; idle prints "EVENT ready" once every connection is open, then waits for a
// line (or EOF) on stdin, checks which connections are still open and exits. The last line is
// "BENCHJSON {...}", a loadgen.Result.
package main
