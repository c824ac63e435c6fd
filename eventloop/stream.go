package eventloop

import (
	"fmt"
	"io"
	"os"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

const fileChunk = 64 << 10

// lockForSend takes c.mu for a stream's send and checks msg against the stream's ASGI
// order. On error the lock is released again. streamGone and order are guarded by c.mu.
func lockForSend(c *conn, streamGone *bool, order *asgi.HTTPResponseOrder, msg asgi.Message) error {
	c.mu.Lock()
	if *streamGone || c.gone {
		c.mu.Unlock()
		return asgi.ErrDisconnected
	}
	if err := order.Check(msg); err != nil {
		c.mu.Unlock()
		return err
	}
	return nil
}

// sendPath implements http.response.pathsend for every HTTP version: the server reads
// the file in chunks, so the app never copies it. check validates the message against
// the stream's order once the file is open; write sends each chunk with the usual
// backpressure, the last one with last set.
func sendPath(path string, check func() error, write func(b []byte, last bool) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eventloop: pathsend: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.IsDir() {
		return fmt.Errorf("eventloop: pathsend: %s is not a readable file", path)
	}
	if err := check(); err != nil {
		return err
	}
	buf := make([]byte, min(fileChunk, max(info.Size(), 1)))
	for {
		n, rerr := io.ReadFull(f, buf)
		last := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !last {
			return fmt.Errorf("eventloop: pathsend: %w", rerr)
		}
		if err := write(buf[:n], last); err != nil || last {
			return err
		}
	}
}
