// Package httpx holds the small HTTP helpers shared by asgo's reference apps and
// adapters: plain-text responses (404, 405, 400 ...), the scope dispatch of HTTP-only
// apps (ServeHTTPOnly), header values joined in one allocation, decimal parsing of
// header and query values without allocation, and bounded query-parameter parsing.
//
// It imports only protocol/asgi and the standard library, like every package under apps.
package httpx
