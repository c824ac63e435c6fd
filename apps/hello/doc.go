// Package hello is the smallest reference app: "Hello, World!" as text/plain to GET and
// HEAD on any path (the server drops the body of a HEAD response), 405 to other methods.
//
// It is the app `asgo serve --app hello` and the benchmarks run, and the model of an
// app on the event loop fast path: it implements asgi.Inliner, never receives, and sends
// two messages built once at init, so a request costs no allocations in the app.
package hello
