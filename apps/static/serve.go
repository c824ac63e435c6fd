package static

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/httpx"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// file is an open file to serve: the representation chosen (a precompressed sibling
// or the file itself) and what the headers need.
type file struct {
	f        fs.File
	info     fs.FileInfo
	real     string // resolved path for pathsend; "" for fs.FS sources
	name     string // the requested file's name, for Content-Type
	encoding string // "br", "gzip" or "" (identity)
	vary     bool   // the file has precompressed siblings
	siblings [len(encodings)]*file
}

func (f *file) close() {
	if f.f != nil {
		f.f.Close()
	}
	for _, s := range f.siblings {
		if s != nil && s.f != nil {
			s.f.Close()
		}
	}
}

// pathsend returns the pathsend message for n bytes of f from off when the scope
// offers pathsend and f is a file of the directory; the open file goes with it (the
// server closes it), so f forgets it.
func (f *file) pathsend(s *asgi.HTTPScope, off, n int64) *asgi.HTTPResponsePathsend {
	if _, ok := s.Extensions[asgi.ExtHTTPResponsePathsend]; !ok || f.real == "" {
		return nil
	}
	ps := &asgi.HTTPResponsePathsend{Path: f.real, Offset: off, Length: n}
	if osf, ok := f.f.(*os.File); ok {
		ps.File, f.f = osf, nil
	}
	return ps
}

// find opens name (a directory's index when it is one and Index is set).
func (a *App) find(name string, wantDir bool) (*file, error) {
	f, info, real, err := a.src.open(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		f.Close()
		if a.index == "" {
			return nil, errNotFound
		}
		name = path.Join(name, a.index)
		if f, info, real, err = a.src.open(name); err != nil {
			return nil, err
		}
		if !wantDir {
			f.Close()
			if info.Mode().IsRegular() {
				return nil, redirectError{}
			}
			return nil, errNotFound
		}
	} else if wantDir {
		f.Close()
		return nil, errNotFound
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, errNotFound
	}
	out := &file{f: f, info: info, real: real, name: name}
	for i, enc := range encodings {
		sf, sinfo, sreal, err := a.src.open(name + enc.ext)
		if err != nil {
			continue
		}
		if !sinfo.Mode().IsRegular() {
			sf.Close()
			continue
		}
		out.siblings[i] = &file{f: sf, info: sinfo, real: sreal, name: name, encoding: enc.name}
		out.vary = true
	}
	return out, nil
}

// choose returns the representation Accept-Encoding prefers among f and its siblings.
func (f *file) choose(accept []byte) *file {
	if len(accept) == 0 || !f.vary {
		return f
	}
	best, bestQ := f, 0.0
	for i, enc := range encodings {
		if f.siblings[i] == nil {
			continue
		}
		if q := acceptQ(string(accept), enc.name); q > bestQ {
			best, bestQ = f.siblings[i], q
		}
	}
	return best
}

var (
	nameETag          = []byte("etag")
	nameLastModified  = []byte("last-modified")
	nameCacheControl  = []byte("cache-control")
	nameVary          = []byte("vary")
	nameAcceptRanges  = []byte("accept-ranges")
	nameContentRange  = []byte("content-range")
	nameContentEncode = []byte("content-encoding")
	valueAcceptEnc    = []byte("Accept-Encoding")
	valueBytes        = []byte("bytes")
)

// serveFile answers GET or HEAD for f: 304, 206, 416 or 200.
func (a *App) serveFile(ctx context.Context, s *asgi.HTTPScope, whole *file, send asgi.Send) error {
	f := whole.choose(s.Headers.Get("accept-encoding"))
	size := f.info.Size()
	mod := f.info.ModTime()
	// One buffer for the header values: ETag, Last-Modified, Content-Length.
	vals := make([]byte, 0, 96)
	if a.weak {
		vals = append(vals, "W/"...)
	}
	vals = append(vals, '"')
	vals = strconv.AppendInt(vals, mod.UnixNano(), 16)
	vals = append(vals, '-')
	vals = strconv.AppendInt(vals, size, 16)
	vals = append(vals, '"')
	etagB := vals[:len(vals):len(vals)]
	vals = mod.UTC().AppendFormat(vals, timeFormat)
	lastModB := vals[len(etagB):len(vals):len(vals)]
	etag, lastMod := string(etagB), string(lastModB)
	h := make(asgi.Headers, 0, 8)
	h = append(h,
		asgi.HeaderField{Name: nameETag, Value: etagB},
		asgi.HeaderField{Name: nameLastModified, Value: lastModB})
	if a.cacheControl != nil {
		h = append(h, asgi.HeaderField{Name: nameCacheControl, Value: a.cacheControl})
	}
	if whole.vary {
		h = append(h, asgi.HeaderField{Name: nameVary, Value: valueAcceptEnc})
	}
	if notModified(s.Headers, etag, mod) {
		return httpx.Full(ctx, send, 304, h, nil)
	}
	h = append(h, asgi.HeaderField{Name: nameAcceptRanges, Value: valueBytes})
	if f.encoding != "" {
		h = append(h, asgi.HeaderField{Name: nameContentEncode, Value: []byte(f.encoding)})
	}
	ctypeB := contentType(path.Ext(f.name))
	head := s.Method == "HEAD"
	if rh := s.Headers.Get("range"); rh != nil && ifRange(s.Headers.Get("if-range"), etag, lastMod) {
		if ranges, ok := parseRange(string(rh), size); ok {
			switch len(ranges) {
			case 0:
				h = append(h, asgi.HeaderField{Name: nameContentRange, Value: fmt.Appendf(nil, "bytes */%d", size)})
				return httpx.Text(ctx, send, 416, "Range Not Satisfiable\n", h...)
			case 1:
				r := ranges[0]
				h = append(h,
					asgi.HeaderField{Name: httpx.NameContentType, Value: ctypeB},
					asgi.HeaderField{Name: nameContentRange, Value: fmt.Appendf(nil, "bytes %d-%d/%d", r.start, r.start+r.length-1, size)},
					asgi.HeaderField{Name: httpx.NameContentLength, Value: strconv.AppendInt(nil, r.length, 10)})
				if err := send(ctx, &asgi.HTTPResponseStart{Status: 206, Headers: h}); err != nil {
					return err
				}
				if head {
					return send(ctx, &asgi.HTTPResponseBody{})
				}
				if ps := f.pathsend(s, r.start, r.length); ps != nil {
					return send(ctx, ps)
				}
				return sendRange(ctx, f.f, r, true, send)
			default:
				return sendMultipart(ctx, f.f, ranges, size, string(ctypeB), h, head, send)
			}
		}
	}
	h = append(h,
		asgi.HeaderField{Name: httpx.NameContentType, Value: ctypeB},
		asgi.HeaderField{Name: httpx.NameContentLength, Value: strconv.AppendInt(vals[len(vals):], size, 10)})
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 200, Headers: h}); err != nil {
		return err
	}
	if head || size == 0 {
		return send(ctx, &asgi.HTTPResponseBody{})
	}
	if ps := f.pathsend(s, 0, size); ps != nil {
		return send(ctx, ps)
	}
	return sendRange(ctx, f.f, httpRange{0, size}, true, send)
}

// ctypes caches the Content-Type of each extension of a file served (so it holds no
// more than the served directories' extensions): a string key, a []byte value that is
// never modified (header values handed to send are not retained or changed).
var ctypes sync.Map

// contentType returns the Content-Type for the file extension ext.
func contentType(ext string) []byte {
	if v, ok := ctypes.Load(ext); ok {
		return v.([]byte)
	}
	ctype := mime.TypeByExtension(ext)
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	v, _ := ctypes.LoadOrStore(ext, []byte(ctype))
	return v.([]byte)
}

// notModified evaluates If-None-Match, or If-Modified-Since without it (RFC 9110
// 13.2.2), for a GET or HEAD.
func notModified(h asgi.Headers, etag string, mod time.Time) bool {
	if inm := h.Get("if-none-match"); inm != nil {
		return etagMatch(string(inm), etag)
	}
	if ims := h.Get("if-modified-since"); ims != nil {
		t, ok := parseHTTPDate(string(ims))
		return ok && !mod.Truncate(time.Second).After(t)
	}
	return false
}

// ifRange reports whether a Range header applies: no If-Range, or one that matches
// the strong ETag or equals Last-Modified exactly.
func ifRange(v []byte, etag, lastMod string) bool {
	if v == nil {
		return true
	}
	s := string(v)
	if len(s) > 0 && (s[0] == '"' || len(s) > 2 && s[:2] == "W/") {
		return s[0] == '"' && etag[0] == '"' && s == etag
	}
	return s == lastMod
}

// blockSize is the size of the body messages a streamed file goes out in.
const blockSize = 64 << 10

var blocks = sync.Pool{New: func() any { b := make([]byte, blockSize); return &b }}

// sendRange sends r of f in blocks; the last block ends the response when final.
func sendRange(ctx context.Context, f fs.File, r httpRange, final bool, send asgi.Send) error {
	bp := blocks.Get().(*[]byte)
	defer blocks.Put(bp)
	buf := *bp
	ra, isReaderAt := f.(io.ReaderAt)
	if !isReaderAt {
		sk, ok := f.(io.Seeker)
		if !ok {
			return errors.New("static: the file can neither ReadAt nor Seek")
		}
		if _, err := sk.Seek(r.start, io.SeekStart); err != nil {
			return err
		}
	}
	off, left := r.start, r.length
	for left > 0 {
		n := int(min(int64(len(buf)), left))
		var err error
		if isReaderAt {
			n, err = ra.ReadAt(buf[:n], off)
		} else {
			n, err = io.ReadFull(f, buf[:n])
		}
		if n == 0 && err != nil {
			return fmt.Errorf("static: reading the file: %w", err) // shorter than its size
		}
		off += int64(n)
		left -= int64(n)
		if err := send(ctx, &asgi.HTTPResponseBody{Body: buf[:n], MoreBody: left > 0 || !final}); err != nil {
			return err
		}
	}
	if r.length == 0 && final {
		return send(ctx, &asgi.HTTPResponseBody{})
	}
	return nil
}

// sendMultipart answers 206 multipart/byteranges with ranges of f.
func sendMultipart(ctx context.Context, f fs.File, ranges []httpRange, size int64, ctype string, h asgi.Headers, head bool, send asgi.Send) error {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	boundary := hex.EncodeToString(rnd[:])
	partHeads := make([][]byte, len(ranges))
	length := int64(0)
	for i, r := range ranges {
		sep := "\r\n--"
		if i == 0 {
			sep = "--"
		}
		partHeads[i] = fmt.Appendf(nil, "%s%s\r\nContent-Type: %s\r\nContent-Range: bytes %d-%d/%d\r\n\r\n",
			sep, boundary, ctype, r.start, r.start+r.length-1, size)
		length += int64(len(partHeads[i])) + r.length
	}
	tail := []byte("\r\n--" + boundary + "--\r\n")
	length += int64(len(tail))
	h = append(h,
		asgi.HeaderField{Name: httpx.NameContentType, Value: []byte("multipart/byteranges; boundary=" + boundary)},
		asgi.HeaderField{Name: httpx.NameContentLength, Value: strconv.AppendInt(nil, length, 10)})
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 206, Headers: h}); err != nil {
		return err
	}
	if head {
		return send(ctx, &asgi.HTTPResponseBody{})
	}
	for i, r := range ranges {
		if err := send(ctx, &asgi.HTTPResponseBody{Body: partHeads[i], MoreBody: true}); err != nil {
			return err
		}
		if err := sendRange(ctx, f, r, false, send); err != nil {
			return err
		}
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: tail})
}
