// Package compress is response-compression middleware: it wraps an asgi.App and
// compresses HTTP response bodies with gzip, brotli (br) or zstd, negotiated from the
// request's Accept-Encoding.
//
// # Negotiation
//
// Accept-Encoding is read with its q-values: q=0 forbids a coding, "*" stands for every
// coding not listed, "x-gzip" is gzip. Among the configured encodings the client
// accepts, the one with the highest q wins; ties go to the configured order (the
// server's preference). A request without Accept-Encoding, or one accepting none of
// them, gets the response as the app sent it.
//
// # What is compressed
//
// A response is compressed when all of these hold: the status is 2xx-5xx but not 204,
// 206 or 304; the request is not HEAD; the response has no Content-Encoding and no
// Content-Range, and no Cache-Control: no-transform; its media type is one of
// Config.ContentTypes (text/*, JSON, JavaScript, XML, SVG, WebAssembly, ... by
// default; images, video, audio and archives are already compressed and never listed);
// and it is at least Config.MinSize bytes (256 by default) when Content-Length tells,
// or when the body ends before that many bytes were sent.
//
// Every response of a compressible type gets "Vary: Accept-Encoding" (appended to an
// existing Vary, unless it already names Accept-Encoding or is "*"), compressed or not,
// so caches keep the variants apart; except one whose Content-Length is under the
// minimum, which is never compressed and so does not vary. A compressed response loses Content-Length and
// Accept-Ranges, gains Content-Encoding, and a strong ETag becomes weak (W/"...").
//
// # Streaming
//
// The first http.response.body message decides. When it ends the body, the body is
// compressed if it reaches the minimum size. When more_body is set and Content-Length
// is missing, the messages are held (copied) until the minimum size is reached or the
// body ends, whichever comes first; for a streaming media type (Config.StreamingTypes:
// text/event-stream, application/x-ndjson, ... by default) compression starts at once.
// From then on every message with more_body is written to the encoder and flushed, so
// each message reaches the client as one decodable piece as soon as the app sent it:
// Server-Sent Events and other streams arrive as they are produced.
//
// A stream lasts as long as its connection, and an encoder kept for it holds 0.5 to
// 1.5 MiB (gzip about 1 MiB, brotli 0.5, zstd 1.5 at the defaults). So a streaming
// media type is compressed with stateless gzip whenever gzip is offered and the client
// accepts it, whatever the preference order: each message is compressed on its own
// and nothing is held between messages. Otherwise it gets the negotiated coding.
//
// # Memory
//
// Encoders are pooled per encoding and level (sync.Pool) and taken from the pool only
// once a response is being compressed; they go back at its end, also when the app
// fails or the client disconnects, so memory per connection stays flat. zstd uses a
// 64 KiB window, no goroutines per encoder (concurrency 1); brotli a 64 KiB window too.
// Measured (BenchmarkJSON64K, 2 cores): a 64 KiB JSON response compressed costs no
// allocation with gzip and brotli and 2 with zstd, 0.1-0.7 KiB per response amortized
// (pools refilled after a GC), where a new encoder per response would allocate 1.0 MiB
// (gzip), 1.7 MiB (brotli) or 1.8 MiB (zstd). A response that is not compressed costs
// no allocation.
//
// # Other scopes and capabilities
//
// WebSocket and lifespan scopes go to the wrapped app untouched. The middleware never
// blocks (compression is CPU work on the caller's goroutine), so it passes the wrapped
// app's asgi.Inliner and asgi.WebSocketEventer answers on.
package compress
