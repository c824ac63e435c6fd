package eventloop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Output written by the loop goes to the socket through raw system calls, and gnet gets
// only what the socket did not take (gnet writes it once the socket drains, in order:
// it is given output only while its own buffer is empty, or behind it). The sockets are
// non-blocking, so a write never sleeps; but unix.Write tells the Go scheduler that
// the thread enters a system call, and a write on a busy loop takes long enough (the
// kernel delivers loopback data to the peer inside it) that sysmon keeps catching the
// loop's P in one, hands it to another thread and then polls every 20 µs instead of
// every 10 ms: with one CPU that cost ~10% of the server's time in a keep-alive hello
// benchmark. cloudwego/netpoll writes with raw system calls for the same reason.

// writeOut writes buf to c's socket and hands gnet the rest. It reports false when the
// socket failed: the caller closes the connection. Loop only.
func (c *conn) writeOut(buf []byte) bool {
	if c.gc.OutboundBuffered() > 0 {
		_, _ = c.gc.Write(buf) // behind gnet's own output
		return true
	}
	n, err := rawWrite(c.gc.Fd(), buf)
	if err != nil {
		return false
	}
	if n < len(buf) {
		_, _ = c.gc.Write(buf[n:]) // gnet copies what the socket does not take
	}
	return true
}

// writevOut is writeOut for output in pieces (at most len(iovecs) of them).
func (c *conn) writevOut(bufs [][]byte) bool {
	if c.gc.OutboundBuffered() > 0 {
		_, _ = c.gc.Writev(bufs)
		return true
	}
	n, err := rawWritev(c.gc.Fd(), bufs)
	if err != nil {
		return false
	}
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
		_, _ = c.gc.Writev(bufs)
	}
	return true
}

// rawWrite writes b to the non-blocking socket fd; a full socket is 0 bytes, no error.
func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	return written(rawSyscall(unix.SYS_WRITE, fd, unsafe.Pointer(&b[0]), len(b)))
}

// rawRead reads into b from the non-blocking socket fd. It returns 0 for no data yet,
// end of stream and errors alike: gnet's own next read sees the end or the error and
// closes the connection.
func rawRead(fd int, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	n, errno := rawSyscall(unix.SYS_READ, fd, unsafe.Pointer(&b[0]), len(b))
	if errno != 0 {
		return 0
	}
	return n
}

// maxRawIovecs bounds the pieces of one rawWritev.
const maxRawIovecs = maxWriteSegs

// rawWritev writes bufs (at most maxRawIovecs) to the non-blocking socket fd; a full
// socket is 0 bytes, no error.
func rawWritev(fd int, bufs [][]byte) (int, error) {
	var iov [maxRawIovecs]unix.Iovec
	k := 0
	for _, b := range bufs[:min(len(bufs), maxRawIovecs)] {
		if len(b) > 0 {
			iov[k].Base = &b[0]
			iov[k].SetLen(len(b))
			k++
		}
	}
	if k == 0 {
		return 0, nil
	}
	return written(rawSyscall(unix.SYS_WRITEV, fd, unsafe.Pointer(&iov[0]), k))
}

// rawSyscall makes the system call trap(fd, p, n) as a raw one, again after EINTR.
func rawSyscall(trap uintptr, fd int, p unsafe.Pointer, n int) (int, unix.Errno) {
	for {
		r, _, errno := unix.RawSyscall(trap, uintptr(fd), uintptr(p), uintptr(n))
		if errno != unix.EINTR {
			return int(r), errno
		}
	}
}

// written is a write's outcome: a full socket (EAGAIN) is 0 bytes, no error.
func written(n int, errno unix.Errno) (int, error) {
	switch errno {
	case 0:
		return n, nil
	case unix.EAGAIN:
		return 0, nil
	}
	return 0, errno
}
