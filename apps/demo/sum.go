package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// PathSum reads a POST body to its end and answers "LENGTH SHA256HEX\n": uploads of
// any size are checked end to end while neither side holds the body (the server
// streams it to the app, which keeps only the running hash).
const PathSum = "/sum"

// sumApp serves PathSum. It answers only after the whole body, since reverse proxies
// (nginx) stop sending a request body once the response has started.
var sumApp = asgi.AppFunc(func(ctx context.Context, _ asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	h := sha256.New()
	var n int64
	for {
		m, err := receive(ctx)
		if err != nil {
			return err
		}
		req, ok := m.(*asgi.HTTPRequest)
		if !ok {
			return nil // disconnected: nobody to answer
		}
		h.Write(req.Body)
		n += int64(len(req.Body))
		if !req.MoreBody {
			break
		}
	}
	return httpx.Text(ctx, send, 200, strconv.FormatInt(n, 10)+" "+hex.EncodeToString(h.Sum(nil))+"\n")
})
