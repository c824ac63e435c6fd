package nethttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func newAdapter(h http.HandlerFunc) (*Adapter, *testutil.LogBuffer) {
	logs := &testutil.LogBuffer{}
	return New(h, Config{Logger: slog.New(slog.NewTextHandler(logs, nil))}), logs
}

// run serves scope with receive (an empty body when nil) and returns the recorder and
// ServeASGI's error.
func run(t *testing.T, a asgi.App, scope *asgi.HTTPScope, receive asgi.Receive) (*asgitest.Recorder, error) {
	t.Helper()
	if receive == nil {
		receive = asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{})
	}
	return apptest.Serve(t, a, scope, receive)
}

func scope(version, method, target string, headers ...string) *asgi.HTTPScope {
	s := asgitest.NewHTTPScope(method, target, append([]string{"host", "example.com"}, headers...)...)
	s.HTTPVersion = version
	return s
}

func TestFlushStreams(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		step := make(chan struct{})
		a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "first")
			w.(http.Flusher).Flush()
			<-step
			io.WriteString(w, "second")
			if err := http.NewResponseController(w).Flush(); err != nil {
				panic(err)
			}
			<-step
		})
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		done := make(chan error, 1)
		go func() {
			done <- a.ServeASGI(context.Background(), scope(version, "GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
		}()
		waitBody := func(want string) {
			t.Helper()
			testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("the body so far to be %q", want), func() bool {
				return string(rec.Response().Body) == want
			})
			if got := string(rec.Response().Body); got != want {
				t.Fatalf("body so far %q, want %q", got, want) // and not more
			}
		}
		waitBody("first")
		step <- struct{}{}
		waitBody("firstsecond")
		step <- struct{}{}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		resp := rec.Response()
		if !resp.Complete || resp.Headers.Has("content-length") {
			t.Fatalf("a flushed response has no length: %+v", resp)
		}
	})
}

func TestWriterErrors(t *testing.T) {
	var errs []error
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cl":
			w.Header().Set("Content-Length", "3")
			_, e1 := w.Write([]byte("abc"))
			_, e2 := w.Write([]byte("d"))
			errs = []error{e1, e2}
		case "/204":
			w.WriteHeader(204)
			_, e := w.Write([]byte("x"))
			errs = []error{e}
		case "/short":
			w.Header().Set("Content-Length", "10")
			w.Write([]byte("abc"))
		}
	})
	if _, err := run(t, a, scope("1.1", "GET", "/cl"), nil); err != nil || errs[0] != nil || !errors.Is(errs[1], http.ErrContentLength) {
		t.Fatalf("write past Content-Length: %v %v", err, errs)
	}
	if _, err := run(t, a, scope("1.1", "GET", "/204"), nil); err != nil || !errors.Is(errs[0], http.ErrBodyNotAllowed) {
		t.Fatalf("write on 204: %v %v", err, errs)
	}
	rec, err := run(t, a, scope("1.1", "GET", "/short"), nil)
	if !errors.Is(err, errShortBody) || rec.Response().Complete {
		t.Fatalf("a body shorter than its Content-Length must abort: %v", err)
	}
}

func TestWriteAfterReturn(t *testing.T) {
	var saved http.ResponseWriter
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
		if saved == nil {
			saved = w
			return
		}
		// A later request: the writers are pooled, so the kept one must not reach
		// this request's header or body.
		w.Header().Set("X-Second", "yes")
		saved.Header().Set("X-Late", "late")
		saved.WriteHeader(500)
		if _, err := saved.Write([]byte("late")); !errors.Is(err, ErrWriteAfterReturn) {
			t.Errorf("write after return: %v", err)
		}
		if err := http.NewResponseController(saved).Flush(); !errors.Is(err, ErrWriteAfterReturn) {
			t.Errorf("flush after return: %v", err)
		}
		io.WriteString(w, "second")
	})
	if _, err := run(t, a, scope("1.1", "GET", "/"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := saved.Write([]byte("late")); !errors.Is(err, ErrWriteAfterReturn) {
		t.Fatalf("write after return: %v", err)
	}
	for range 3 {
		rec, err := run(t, a, scope("1.1", "GET", "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := rec.Response()
		if resp.Status != 200 || string(resp.Body) != "second" || string(resp.Headers.Get("x-second")) != "yes" || resp.Headers.Has("x-late") {
			t.Fatalf("a kept writer reached a later request: %d %q x-late=%q", resp.Status, resp.Body, resp.Headers.Get("x-late"))
		}
	}
}

func TestContextCancelledWhenClientGoes(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		started := make(chan struct{})
		var cause error
		a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
			close(started)
			select {
			case <-r.Context().Done():
				cause = r.Context().Err()
			case <-time.After(5 * time.Second):
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			rec := asgitest.NewRecorder(asgi.ScopeHTTP)
			_ = a.ServeASGI(ctx, scope(version, "GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
		}()
		<-started
		cancel() // the server cancels the app's context when the client is gone
		<-done
		if !errors.Is(cause, context.Canceled) {
			t.Fatalf("request context: %v", cause)
		}
	})
}

func TestContextCancelledAfterReturn(t *testing.T) {
	var ctx context.Context
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) { ctx = r.Context() })
	if _, err := run(t, a, scope("1.1", "GET", "/"), nil); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil {
		t.Fatal("the request context outlived the handler")
	}
}

func TestBodyIsReadLazily(t *testing.T) {
	calls := 0
	receive := func(ctx context.Context) (asgi.Message, error) {
		calls++
		return &asgi.HTTPRequest{Body: []byte("x")}, nil
	}
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "not reading") })
	if _, err := run(t, a, scope("1.1", "POST", "/", "content-length", "1", "expect", "100-continue"), receive); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Fatalf("receive called %d times although the handler never read the body", calls)
	}
}

func TestBodyStreamsAndEnds(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		var got []byte
		var readErr, afterClose error
		a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
			got, readErr = io.ReadAll(r.Body)
			r.Body.Close()
			_, afterClose = r.Body.Read(make([]byte, 1))
		})
		body := strings.Repeat("0123456789", 1000)
		_, err := run(t, a, scope(version, "POST", "/", "content-length", "10000"),
			asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body([]byte(body), 999)...))
		if err != nil || readErr != nil || string(got) != body {
			t.Fatalf("err %v read %v, %d bytes", err, readErr, len(got))
		}
		if !errors.Is(afterClose, http.ErrBodyReadAfterClose) {
			t.Fatalf("read after Close: %v", afterClose)
		}
	})
}

func TestBodyClientDisconnect(t *testing.T) {
	var readErr error
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) { _, readErr = io.ReadAll(r.Body) })
	_, _ = run(t, a, scope("1.1", "POST", "/", "content-length", "100"),
		asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{Body: []byte("part"), MoreBody: true}))
	if !errors.Is(readErr, io.ErrUnexpectedEOF) {
		t.Fatalf("read error %v", readErr)
	}
}

func TestRequestFraming(t *testing.T) {
	tests := []struct {
		name    string
		version string
		headers []string
		cl      int64
		te      []string
		noBody  bool
	}{
		{"HTTP/1.1 without length has no body", "1.1", nil, 0, nil, true},
		{"HTTP/1.1 content-length", "1.1", []string{"content-length", "12"}, 12, nil, false},
		{"HTTP/1.1 chunked", "1.1", []string{"transfer-encoding", "chunked"}, -1, []string{"chunked"}, false},
		{"HTTP/2 without length is unknown", "2", nil, -1, nil, false},
		{"HTTP/2 content-length", "2", []string{"content-length", "3"}, 3, nil, false},
		{"content-length 0", "2", []string{"content-length", "0"}, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scope(tt.version, "POST", "/", tt.headers...)
			r, err := newRequest(context.Background(), s, nil, serverAddr(s.Server))
			if err != nil {
				t.Fatal(err)
			}
			if r.ContentLength != tt.cl || strings.Join(r.TransferEncoding, ",") != strings.Join(tt.te, ",") || (r.Body == http.NoBody) != tt.noBody {
				t.Fatalf("ContentLength %d TransferEncoding %v NoBody %v", r.ContentLength, r.TransferEncoding, r.Body == http.NoBody)
			}
			if _, ok := r.Header["Transfer-Encoding"]; ok {
				t.Fatal("Transfer-Encoding stays in the header")
			}
		})
	}
}

func TestRequestFields(t *testing.T) {
	s := scope("2", "GET", "/app/caf%C3%A9/x?q=1", "cookie", "a=1", "cookie", "b=2", "expect", "100-continue", "x-y", "z")
	s.Path, s.RootPath, s.Scheme = "/app/café/x", "/app", "https"
	r, err := newRequest(context.Background(), s, nil, serverAddr(s.Server))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"RequestURI", r.RequestURI, "/app/caf%C3%A9/x?q=1"},
		{"URL.Path below the root path", r.URL.Path, "/café/x"},
		{"URL.RawPath", r.URL.EscapedPath(), "/caf%C3%A9/x"},
		{"URL.RawQuery", r.URL.RawQuery, "q=1"},
		{"Host", r.Host, "example.com"},
		{"Proto", r.Proto, "HTTP/2.0"},
		{"RemoteAddr", r.RemoteAddr, "127.0.0.1:40000"},
		{"HTTP/2 cookies joined", strings.Join(r.Header["Cookie"], "|"), "a=1; b=2"},
		{"Expect removed", r.Header.Get("Expect"), ""},
		{"Host not in Header", r.Header.Get("Host"), ""},
		{"other header", r.Header.Get("X-Y"), "z"},
		{"TLS ServerName", r.TLS.ServerName, "example.com"},
		{"local address", r.Context().Value(http.LocalAddrContextKey).(net.Addr).String(), "127.0.0.1:8000"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestRootPathOnly(t *testing.T) {
	s := scope("1.1", "GET", "/nethttp")
	s.RootPath = "/nethttp"
	r, err := newRequest(context.Background(), s, nil, serverAddr(s.Server))
	if err != nil || r.URL.Path != "/" {
		t.Fatalf("path %q err %v", r.URL.Path, err)
	}
}

func TestBadRequests(t *testing.T) {
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) { t.Error("handler called for a bad request") })
	for _, s := range []*asgi.HTTPScope{
		scope("1.1", "POST", "/", "content-length", "abc"),
		scope("1.1", "POST", "/", "content-length", "-1"),
		func() *asgi.HTTPScope { s := scope("1.1", "GET", "/"); s.RawPath = []byte("no-slash\x7f"); return s }(),
	} {
		rec, err := run(t, a, s, nil)
		if err != nil || rec.Response().Status != 400 {
			t.Fatalf("status %d err %v", rec.Response().Status, err)
		}
	}
}

func TestPanics(t *testing.T) {
	a, logs := newAdapter(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		panic("handler exploded")
	})
	_, err := run(t, a, scope("1.1", "GET", "/boom"), nil)
	if err == nil || !strings.Contains(logs.String(), "handler exploded") || !strings.Contains(logs.String(), "path=/boom") {
		t.Fatalf("err %v, logs %q", err, logs)
	}
	before := logs.String()
	_, err = run(t, a, scope("1.1", "GET", "/abort"), nil)
	if !errors.Is(err, http.ErrAbortHandler) || logs.String() != before {
		t.Fatalf("ErrAbortHandler: err %v, logged %q", err, strings.TrimPrefix(logs.String(), before))
	}
}

func TestTrailersNotOffered(t *testing.T) {
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "1")
	})
	rec, err := run(t, a, scope("1.1", "GET", "/"), nil) // no http.response.trailers extension
	if err != nil || !rec.Response().Complete || len(rec.Response().Trailers) != 0 {
		t.Fatalf("err %v resp %+v", err, rec.Response())
	}
}

func TestNoHijackNoDeadlines(t *testing.T) {
	var hijack, deadline error
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_, _, hijack = rc.Hijack()
		deadline = rc.SetWriteDeadline(time.Now())
	})
	if _, err := run(t, a, scope("1.1", "GET", "/"), nil); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(hijack, http.ErrNotSupported) || !errors.Is(deadline, http.ErrNotSupported) {
		t.Fatalf("Hijack %v, SetWriteDeadline %v: want http.ErrNotSupported", hijack, deadline)
	}
}

func TestNonHTTPScopes(t *testing.T) {
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) { t.Error("handler called") })
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	if err := a.ServeASGI(context.Background(), &asgi.WebSocketScope{}, asgitest.Script(nil, &asgi.WebSocketConnect{}), rec.Send); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Messages[0].(*asgi.WebSocketClose); !ok {
		t.Fatalf("sent %s", rec)
	}
	if err := a.ServeASGI(context.Background(), &asgi.LifespanScope{}, nil, rec.Send); !errors.Is(err, ErrUnsupportedScope) {
		t.Fatalf("lifespan: %v", err)
	}
}

func TestHeaderSanitizing(t *testing.T) {
	a, _ := newAdapter(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Split", "a\r\nSet-Cookie: evil")
		w.Header()["Bad Name"] = []string{"x"}
		w.Header().Set("Connection", "close")
	})
	rec, err := run(t, a, scope("1.1", "GET", "/"), nil)
	h := rec.Response().Headers
	if err != nil || string(h.Get("x-split")) != "a  Set-Cookie: evil" || h.Has("bad name") || h.Has("connection") {
		t.Fatalf("err %v headers %q", err, h)
	}
}
