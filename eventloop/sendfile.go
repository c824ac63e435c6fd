package eventloop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// http.response.pathsend: the file is opened cheaply (the app's open file when it
// hands one over, else a plain open(2) with no poller registration) and its body goes
// out one of two ways:
//
//   - sendfile(2), for HTTP/1.1 (and uwsgi) on a cleartext socket: the response head is
//     queued, then the file itself as a segment of the connection's own output queue
//     (shared.go), which the loop writes with sendfile while the socket takes it, a
//     bounded amount per turn, resuming as the socket drains. The file is never read
//     into memory, whatever its size and however slowly the client reads. Files of at
//     most copyMax bytes are read straight into the pending output instead: one write
//     for head and body is cheaper than a write plus a sendfile.
//   - copying, for TLS (which must encrypt) and HTTP/2 (DATA frames under flow
//     control): pread in 64 KiB blocks, each written with the usual backpressure.

// copyMax is the largest body that HTTP/1.1 copies into the pending output rather
// than sending with sendfile.
const copyMax = 16 << 10

// fileTurn bounds the file bytes one connection sends with sendfile per flush: a fast
// reader of a large file gets another flush at once (after the loop's other events),
// not the whole loop.
const fileTurn = 1 << 20

// errFileShrank is a file that ended before the bytes its response promised.
var errFileShrank = errors.New("eventloop: pathsend: the file is shorter than its response")

// pathFile is the open file of a pathsend and the part of it that is the body.
type pathFile struct {
	fd   int
	file *os.File // the app's file (closed through it); nil when the server opened fd
	off  int64    // next byte to send
	left int64    // bytes still to send
}

// close closes the file. Safe to call once.
func (f *pathFile) close() {
	if f.file != nil {
		_ = f.file.Close()
	} else {
		_ = unix.Close(f.fd)
	}
}

// openPathsend opens the file of ps (or takes the app's) and works out the body. On
// error the app's file is closed.
func openPathsend(ps *asgi.HTTPResponsePathsend) (*pathFile, error) {
	f := &pathFile{file: ps.File}
	if ps.File != nil {
		f.fd = int(ps.File.Fd())
	} else {
		fd, err := unix.Open(ps.Path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != nil {
			return nil, fmt.Errorf("eventloop: pathsend: %w", &os.PathError{Op: "open", Path: ps.Path, Err: err})
		}
		f.fd = fd
	}
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.close()
		return nil, fmt.Errorf("eventloop: pathsend: %s is not a readable file", ps.Path)
	}
	f.off, f.left = ps.Offset, ps.Length
	if f.left == 0 {
		f.left = st.Size - ps.Offset
	}
	if ps.Offset > st.Size || f.left > st.Size-ps.Offset {
		f.close()
		return nil, fmt.Errorf("eventloop: pathsend: %s: %d bytes from %d are past its end (%d bytes)", ps.Path, f.left, ps.Offset, st.Size)
	}
	return f, nil
}

// fileSender is a stream that can send a pathsend body without copying it.
type fileSender interface {
	// sendFile sends f as the body if the connection allows it (handled true; f
	// then belongs to it, whatever the error); with handled false the caller copies.
	sendFile(ctx context.Context, f *pathFile) (handled bool, err error)
}

// sendPath implements http.response.pathsend for every HTTP version. The message is
// checked against the stream's order once the file is open.
func sendPath(ctx context.Context, st httpStream, ps *asgi.HTTPResponsePathsend) error {
	f, err := openPathsend(ps)
	if err != nil {
		if ps.File != nil {
			_ = ps.File.Close()
		}
		return err
	}
	if err := st.checkSend(ps); err != nil {
		f.close()
		return err
	}
	if fs, ok := st.(fileSender); ok {
		if handled, err := fs.sendFile(ctx, f); handled {
			return err
		}
	}
	defer f.close()
	return copyFile(ctx, st, f)
}

var fileBlocks = sync.Pool{New: func() any { b := make([]byte, fileChunk); return &b }}

// copyFile writes f's body in blocks read with pread, each with the usual
// backpressure, the last one ending the response.
func copyFile(ctx context.Context, st httpStream, f *pathFile) error {
	bp := fileBlocks.Get().(*[]byte)
	defer fileBlocks.Put(bp)
	buf := *bp
	for {
		n := int(min(int64(len(buf)), f.left))
		if n > 0 {
			if err := f.read(buf[:n]); err != nil {
				return err
			}
		}
		f.left -= int64(n)
		last := f.left == 0
		if err := st.writeBody(ctx, buf[:n], last); err != nil || last {
			return err
		}
	}
}

// read fills b from the file at f.off with pread and advances f.off.
func (f *pathFile) read(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Pread(f.fd, b, f.off)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return fmt.Errorf("eventloop: pathsend: %w", err)
		case n == 0:
			return errFileShrank
		}
		f.off += int64(n)
		b = b[n:]
	}
	return nil
}

// sendfile sends up to max bytes of f to the socket fd with sendfile(2), without
// blocking. It returns the bytes sent and unix.EAGAIN when the socket took less than
// offered; errFileShrank when the file ended early.
func (f *pathFile) sendfile(sock int, max int64) (int64, error) {
	want := int(min(f.left, max))
	n, err := unix.Sendfile(sock, f.fd, &f.off, want)
	if n > 0 {
		f.left -= int64(n)
	}
	switch {
	case err == unix.EINTR:
		return int64(max0(n)), nil
	case err != nil:
		return int64(max0(n)), err
	case n == 0:
		return 0, errFileShrank
	case n < want:
		return int64(n), unix.EAGAIN
	}
	return int64(n), nil
}

func max0(n int) int { return max(n, 0) }

// sendFile is the fileSender of HTTP/1.1: sendfile on a cleartext socket (the head and
// the framing go through the pending output), or, for small bodies, pread straight
// into the pending output.
func (st *h1Stream) sendFile(ctx context.Context, f *pathFile) (bool, error) {
	if !st.sendfileOK {
		return false, nil
	}
	c := st.c
	c.mu.Lock()
	if st.gone || c.gone {
		c.mu.Unlock()
		f.close()
		return true, asgi.ErrDisconnected
	}
	n := f.left
	before := len(c.pending)
	pending, write, err := st.resp.AppendBodyHead(c.pending, n, false)
	c.pending = pending
	switch {
	case err != nil || !write:
		f.close()
	case n <= copyMax:
		c.pending = slices.Grow(c.pending, int(n))
		body := c.pending[len(c.pending) : len(c.pending)+int(n)]
		if err = f.read(body); err == nil {
			c.pending = c.pending[:len(c.pending)+int(n)]
		}
		f.close()
	default:
		c.queueFileLocked(f)
	}
	if err == nil && write {
		st.bodyBytes += n
		if n > copyMax {
			st.sentBytes += n // not in the pending output, counted below
		}
	}
	if err == nil {
		c.pending = st.resp.AppendBodyTail(c.pending, n, false)
	}
	st.sentBytes += int64(len(c.pending) - before)
	if err != nil {
		st.abort = st.resp.HeadWritten()
	}
	if err != nil || st.order.State == asgi.HTTPResponseComplete {
		st.finished = true
	}
	if !st.inline {
		c.scheduleFlushLocked()
	}
	c.mu.Unlock()
	return true, err
}
