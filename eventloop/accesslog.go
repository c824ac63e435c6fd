package eventloop

import (
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
)

// accessLog is the access log of a server with Config.AccessLogFormat,
// AccessLogFile or AccessLogWriter set; without them logAccess logs as it always did.
type accessLog struct {
	format *accessFormat
	w      *accessWriter // nil: lines go to the Logger
	closer io.Closer     // the file opened for AccessLogFile
	reopen func() error  // nil: nothing to reopen
}

// accessBufs holds the buffers lines are formatted into: lines are written on the loops
// and on app goroutines (HTTP/2 streams, WebSockets), so a pool rather than one per loop.
var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// newAccessLog parses the access-log format of cfg, or returns nil when the default
// logging serves (or there is no access log).
func newAccessLog(cfg *Config) (*accessLog, error) {
	if !cfg.AccessLog || cfg.AccessLogFormat == "" && cfg.AccessLogFile == "" && cfg.AccessLogWriter == nil {
		return nil, nil
	}
	f, err := parseAccessFormat(cfg.AccessLogFormat)
	if err != nil {
		return nil, err
	}
	return &accessLog{format: f}, nil
}

// openAccessLog opens the access log's destination and starts its writer. Start calls it.
func (s *Server) openAccessLog() error {
	if s.accessErr != nil {
		return s.accessErr
	}
	a := s.access
	if a == nil {
		return nil
	}
	out := s.cfg.AccessLogWriter
	if s.cfg.AccessLogFile != "" {
		f, err := openReopenFile(s.cfg.AccessLogFile)
		if err != nil {
			return err
		}
		out, a.closer, a.reopen = f, f, f.Reopen
	} else if r, ok := out.(interface{ Reopen() error }); ok {
		a.reopen = r.Reopen
	}
	if out != nil {
		a.w = newAccessWriter(out, s.cfg.AccessLogQueueBytes, s.log)
	}
	return nil
}

// closeAccessLog writes out the queued lines (for at most 5 s) and closes the file.
func (s *Server) closeAccessLog() {
	a := s.access
	if a == nil || a.w == nil {
		return
	}
	a.w.Close(5 * time.Second)
	if a.closer != nil {
		if err := a.closer.Close(); err != nil {
			s.log.Warn("access log: close failed", "err", err)
		}
	}
}

// ReopenAccessLog opens Config.AccessLogFile again, so that lines go to a new file
// after logrotate renamed the old one (the asgo command calls it on SIGHUP), or calls
// the Reopen method of Config.AccessLogWriter if it has one. Lines already queued may
// still go to the old file. Without either it does nothing.
func (s *Server) ReopenAccessLog() error {
	if s.access == nil || s.access.reopen == nil {
		return nil
	}
	if err := s.access.reopen(); err != nil {
		return errors.Join(errors.New("access log: reopen failed"), err)
	}
	return nil
}

// writeAccess formats e and writes the line.
func (s *Server) writeAccess(e *accessEntry) {
	a := s.access
	e.finished = time.Now()
	bp := accessBufs.Get().(*[]byte)
	b := a.format.append((*bp)[:0], e)
	if a.w != nil {
		a.w.Write(b)
	} else {
		s.log.Info(string(b))
	}
	if cap(b) <= 64<<10 {
		*bp = b
		accessBufs.Put(bp)
	}
}

// logHTTPAccess writes an HTTP request's access-log line; cut notes a response that did
// not go out whole, sent counts the response body bytes.
func (s *Server) logHTTPAccess(client *asgi.Addr, scope *asgi.HTTPScope, status int, sent int64, cut bool, started time.Time) {
	if s.access == nil {
		s.logHTTPAccessDefault(client, scope, status, cut, started)
		return
	}
	e := accessEntry{client: client, method: scope.Method, path: scope.RawPath, query: scope.QueryString,
		proto: scope.HTTPVersion, headers: scope.Headers, status: status, sent: sent, cut: cut, started: started}
	s.writeAccess(&e)
}

// logWebSocketAccess writes a WebSocket's access-log line: 101 if accepted, or the
// status that refused it.
func (s *Server) logWebSocketAccess(client *asgi.Addr, rawPath string, status int, started time.Time) {
	if s.access == nil {
		verdict := "[accepted]"
		if status != 101 {
			verdict = strconv.Itoa(status) + " [rejected]"
		}
		s.logAccess(client, "WebSocket "+rawPath, verdict, started)
		return
	}
	e := accessEntry{client: client, method: "GET", pathStr: rawPath, proto: "1.1", status: status, ws: true, started: started}
	s.writeAccess(&e)
}
