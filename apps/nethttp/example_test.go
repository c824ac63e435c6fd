package nethttp_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/asgo-dev/asgo/apps/nethttp"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// New serves any http.Handler, here a ServeMux, as an asgi.App.
func ExampleNew() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello, %s (%s)\n", r.PathValue("name"), r.Proto)
	})
	app := nethttp.New(mux, nethttp.Config{})

	resp, err := asgitest.Call(context.Background(), app, "GET", "/hello/gopher", nil)
	fmt.Print(resp.Status, " ", string(resp.Body))
	fmt.Println("content-length:", string(resp.Headers.Get("content-length")), err)
	resp, _ = asgitest.Call(context.Background(), app, "GET", "/elsewhere", nil)
	fmt.Println(resp.Status)
	// Output:
	// 200 hello, gopher (HTTP/1.1)
	// content-length: 25 <nil>
	// 404
}
