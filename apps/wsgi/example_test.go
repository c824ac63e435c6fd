package wsgi_test

import (
	"context"
	"fmt"
	"io"

	"github.com/asgo-dev/asgo/apps/wsgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// New turns a blocking WSGI-style handler into an asgi.App that runs it on a pool of
// worker goroutines.
func ExampleNew() {
	handler := wsgi.HandlerFunc(func(environ wsgi.Environ, startResponse wsgi.StartResponse) (wsgi.Iterable, error) {
		body, err := io.ReadAll(environ.Input()) // wsgi.input streams the request body
		if err != nil {
			return nil, err
		}
		if _, err := startResponse("200 OK", [][2]string{{"Content-Type", "text/plain"}}, nil); err != nil {
			return nil, err
		}
		return wsgi.Bytes([]byte(environ.Get("REQUEST_METHOD")+" "+environ.Get("PATH_INFO")+": "), body), nil
	})
	app := wsgi.New(handler, wsgi.Config{Workers: 2})
	defer app.Close() // stops the App's own pool

	resp, err := asgitest.Call(context.Background(), app, "POST", "/upload", []byte("data"))
	fmt.Println(resp.Status, string(resp.Body), err)
	fmt.Println("content-length:", string(resp.Headers.Get("content-length")))
	// Output:
	// 200 POST /upload: data <nil>
	// content-length: 18
}
