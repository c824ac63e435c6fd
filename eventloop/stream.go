package eventloop

import (
	"context"
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

// sendFile is HTTP/1.1's http.response.pathsend.
func (st *h1Stream) sendFile(ctx context.Context, ps *asgi.HTTPResponsePathsend) error {
	check := func() error {
		if err := lockForSend(st.c, &st.gone, &st.order, ps); err != nil {
			return err
		}
		st.c.mu.Unlock()
		return nil
	}
	return sendPath(ps.Path, check, func(b []byte, last bool) error { return st.writeBody(ctx, b, !last) })
}

// writeBody frames and queues body bytes outside the ASGI order check (pathsend has
// already passed it), then applies backpressure.
func (st *h1Stream) writeBody(ctx context.Context, b []byte, more bool) error {
	c := st.c
	c.mu.Lock()
	if st.gone || c.gone {
		c.mu.Unlock()
		return asgi.ErrDisconnected
	}
	n := len(c.pending)
	var err error
	c.pending, err = st.resp.AppendBody(c.pending, b, more)
	st.sentBytes += int64(len(c.pending) - n)
	if err != nil {
		st.abort = true
	}
	if !more && st.order.State == asgi.HTTPResponseComplete {
		st.finished = true
	}
	if !st.inline {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	if err != nil || st.inline || st.finished {
		return err
	}
	return c.waitWritable(ctx)
}
