package eventloop

import (
	"context"
	"fmt"
	"io"
	"os"

	"asgo/protocol/asgi"
)

const fileChunk = 64 << 10

// sendFile implements http.response.pathsend: the file is read by the server in
// chunks and sent with the usual backpressure, so the app never copies it.
func (st *h1Stream) sendFile(ctx context.Context, ps *asgi.HTTPResponsePathsend) error {
	f, err := os.Open(ps.Path)
	if err != nil {
		return fmt.Errorf("eventloop: pathsend: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("eventloop: pathsend: %w", err)
	}
	if info.IsDir() {
		return fmt.Errorf("eventloop: pathsend: %s is a directory", ps.Path)
	}
	c := st.c
	c.mu.Lock()
	if err := st.order.Check(ps); err != nil {
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	buf := make([]byte, min(fileChunk, max(info.Size(), 1)))
	for {
		n, rerr := io.ReadFull(f, buf)
		if rerr == io.ErrUnexpectedEOF || rerr == io.EOF {
			rerr = nil
			return st.writeBody(ctx, buf[:n], false)
		}
		if rerr != nil {
			return fmt.Errorf("eventloop: pathsend: %w", rerr)
		}
		if err := st.writeBody(ctx, buf[:n], true); err != nil {
			return err
		}
	}
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
	if err != nil || st.inline {
		return err
	}
	return c.waitWritable(ctx)
}
