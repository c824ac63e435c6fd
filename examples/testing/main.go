// Command testing serves a small key-value store; its tests (app_test.go) show how to
// unit-test an asgi.App with protocol/asgi/asgitest, without a server or a socket.
//
//	go run ./examples/testing --bind 127.0.0.1:8000
//	curl -X PUT --data-binary hello http://127.0.0.1:8000/kv/greeting
//	curl http://127.0.0.1:8000/kv/greeting
package main

import "github.com/asgo-dev/asgo"

func main() { asgo.Run(newStore()) }
