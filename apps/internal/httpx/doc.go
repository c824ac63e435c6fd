// Package httpx holds the small HTTP helpers shared by asgo's reference apps: plain-text
// responses (404, 405, 400 ...), decimal parsing of header and query values without
// allocation, and bounded query-parameter parsing.
//
// It imports only protocol/asgi and the standard library, like every package under apps.
package httpx
