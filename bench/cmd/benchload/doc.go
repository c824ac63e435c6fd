// Command benchload is asgo's own load client, for the jobs no standard tool does:
//
//	benchload ws        -url ws://127.0.0.1:8000/ws -conns 1000 -size 128 -warmup 1s -duration 3s
//	benchload broadcast -url ws://127.0.0.1:8000/chat -conns 10000 -size 1024
//	benchload idle      -url http://127.0.0.1:8000/ -mode h1|h2|ws -conns 10000
//	benchload fairness  -url http://127.0.0.1:8000/ -echo-url http://127.0.0.1:8000/echo -alone 1s -warmup 1s -duration 3s
//
// fairness times a bystander's GET round trips alone, then under floods of 10,000
// pipelined GETs per write and 64 MiB uploads to the echo route, which run in a child
// process (benchload flood) so that their CPU does not delay the bystander's goroutine.
//
// It speaks to the harness on stdout: "EVENT start" and "EVENT end" bracket the measured
// interval of ws, broadcast and fairness; idle prints "EVENT ready" once every connection is open, then waits for a
// line (or EOF) on stdin, checks which connections are still open and exits. The last line is
// "BENCHJSON {...}", a loadgen.Result.
package main
