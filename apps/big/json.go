package big

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// Limits of the JSON document's bytes parameter.
const (
	DefaultJSONBytes = 64 << 10 // 64 KiB when bytes is absent
	MaxJSONBytes     = 16 << 20
)

// JSON serves GET /json?bytes=N: a JSON array of records (about N bytes: the records
// that fit, at least one), as an API answers a list, for the compression benchmarks.
// Documents are generated once per size and kept (sizes up to 64 KiB, or the default);
// others are generated per request. Safe for concurrent use.
var JSON asgi.App = asgi.AppFunc(serveJSON)

var (
	jsonMu    sync.Mutex
	jsonCache = map[int64][]byte{}
	jsonType  = []byte("application/json")
)

func serveJSON(ctx context.Context, scope asgi.Scope, _ asgi.Receive, send asgi.Send) error {
	s, ok := scope.(*asgi.HTTPScope)
	if !ok {
		return fmt.Errorf("big: unsupported scope type %q", scope.Type())
	}
	q, err := httpx.ParseQuery(s.QueryString)
	if err != nil {
		return httpx.BadRequest(ctx, send, "json: "+err.Error())
	}
	n, err := q.Int("bytes", DefaultJSONBytes, MaxJSONBytes)
	if err != nil {
		return httpx.BadRequest(ctx, send, "json: "+err.Error())
	}
	doc := jsonDocument(n)
	if s.Method == "HEAD" {
		err = send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: jsonHeaders(len(doc))})
		if err == nil {
			err = send(ctx, &asgi.HTTPResponseBody{})
		}
	} else {
		err = httpx.Full(ctx, send, 200, jsonHeaders(len(doc)), doc)
	}
	if errors.Is(err, asgi.ErrDisconnected) {
		return nil
	}
	return err
}

func jsonHeaders(n int) asgi.Headers {
	return asgi.Headers{
		{Name: httpx.NameContentType, Value: jsonType},
		{Name: httpx.NameContentLength, Value: strconv.AppendInt(nil, int64(n), 10)},
	}
}

// jsonDocument returns the document of about n bytes; callers must not modify it.
func jsonDocument(n int64) []byte {
	keep := n <= 64<<10 || n == DefaultJSONBytes
	if keep {
		jsonMu.Lock()
		defer jsonMu.Unlock()
		if doc, ok := jsonCache[n]; ok {
			return doc
		}
	}
	doc := generateJSON(n)
	if keep {
		jsonCache[n] = doc
	}
	return doc
}

// generateJSON writes records until the next one would pass n bytes.
func generateJSON(n int64) []byte {
	doc := make([]byte, 0, n)
	doc = append(doc, '[')
	var rec []byte
	for i := 0; ; i++ {
		rec = rec[:0]
		if i > 0 {
			rec = append(rec, ',')
		}
		rec = fmt.Appendf(rec, `{"id":%d,"name":"item-%d","price":%d.%02d,"in_stock":%t,"tags":["asgo","bench","%s"]}`,
			i, i, 10+i*37%990, i*13%100, i%3 != 0, [...]string{"red", "green", "blue", "black"}[i%4])
		if i > 0 && int64(len(doc)+len(rec)+1) > n {
			break
		}
		doc = append(doc, rec...)
	}
	return append(doc, ']')
}
