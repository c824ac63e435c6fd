package wsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/internal/testutil"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

func TestHelloBytesBody(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			return Bytes([]byte("Hello, "), []byte("world!")), plain(start)
		}, Config{})
		rec, err := serve(t, app, scopeFor(version, "GET", "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := rec.Response()
		if resp.Status != 200 || string(resp.Body) != "Hello, world!" || !resp.Complete {
			t.Fatalf("got %d %q complete=%v", resp.Status, resp.Body, resp.Complete)
		}
		if got := header(resp.Headers, "content-length"); got != "13" {
			t.Fatalf("content-length %q, want 13 (known length of a Bytes body)", got)
		}
		// start, body(more), body(last): the last chunk carries the end flag.
		if got := strings.TrimSpace(rec.String()); got != "http.response.start http.response.body http.response.body" {
			t.Fatalf("messages %q", got)
		}
	})
}

func TestHeadersWaitForFirstNonEmptyChunk(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		body := &tracked{chunks: [][]byte{nil, {}, []byte("data")}, gate: make(chan struct{})}
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			return body, plain(start)
		}, Config{})
		rec := asgitest.NewRecorder(asgi.ScopeHTTP)
		done := make(chan error, 1)
		go func() {
			done <- app.ServeASGI(context.Background(), scopeFor(version, "GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
		}()
		body.gate <- struct{}{} // empty chunk
		body.gate <- struct{}{} // empty chunk
		body.gate <- struct{}{} // "data": must be sent before the next Next is called
		testutil.WaitFor(t, 5*time.Second, "the fourth Next call", func() bool { return body.calls.Load() == 4 })
		if n := len(strings.Fields(rec.String())); n != 2 {
			t.Errorf("after the empty chunks and one data chunk %d messages were sent (%s), want start+body", n, rec)
		}
		close(body.gate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if resp := rec.Response(); string(resp.Body) != "data" || resp.Headers.Has("content-length") {
			t.Fatalf("got %q headers %q", resp.Body, resp.Headers)
		}
		body.waitClosed(t)
	})
}

func TestHeadersNotSentBeforeFirstChunk(t *testing.T) {
	body := &tracked{chunks: [][]byte{[]byte("x")}, gate: make(chan struct{})}
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		return body, plain(start)
	}, Config{})
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	done := make(chan error, 1)
	go func() {
		done <- app.ServeASGI(context.Background(), scopeFor("1.1", "GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}), rec.Send)
	}()
	testutil.WaitFor(t, 5*time.Second, "the first Next call", func() bool { return body.calls.Load() == 1 })
	if rec.String() != "" {
		t.Errorf("sent %q before the body yielded anything", rec)
	}
	close(body.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestEmptyBodyGetsContentLengthZero(t *testing.T) {
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		_, err := start("204 No Content", nil, nil)
		if e.Get("PATH_INFO") == "/plain" {
			_, err = start("200 OK", nil, errors.New("replace"))
		}
		return &tracked{}, err
	}, Config{})
	rec, err := serve(t, app, scopeFor("1.1", "GET", "/plain"), nil)
	if err != nil || rec.Response().Status != 200 || header(rec.Response().Headers, "content-length") != "0" {
		t.Fatalf("err %v, resp %+v", err, rec.Response())
	}
	rec, err = serve(t, app, scopeFor("1.1", "GET", "/nocontent"), nil)
	if err != nil || rec.Response().Status != 204 || rec.Response().Headers.Has("content-length") {
		t.Fatalf("204 must not get a content-length: err %v, resp %+v", err, rec.Response())
	}
}

func TestWriteCallable(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		body := &tracked{chunks: [][]byte{[]byte(" and iterable")}}
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			write, err := start("201 Created", [][2]string{{"X-A", "1"}}, nil)
			if err != nil {
				return nil, err
			}
			if err := write(nil); err != nil { // headers go out even with no data
				return nil, err
			}
			if err := write([]byte("written")); err != nil {
				return nil, err
			}
			return body, nil
		}, Config{})
		rec, err := serve(t, app, scopeFor(version, "GET", "/"), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := rec.Response()
		if resp.Status != 201 || string(resp.Body) != "written and iterable" || header(resp.Headers, "x-a") != "1" || !resp.Complete {
			t.Fatalf("got %+v", resp)
		}
		body.waitClosed(t)
	})
}

func TestStartResponseTwiceWithoutExcInfo(t *testing.T) {
	var second error
	app, logs := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		if err := plain(start); err != nil {
			return nil, err
		}
		_, second = start("404 Not Found", nil, nil)
		return nil, second
	}, Config{})
	rec, err := serve(t, app, scopeFor("1.1", "GET", "/"), nil)
	if !errors.Is(second, ErrStartResponseTwice) {
		t.Fatalf("second start_response returned %v", second)
	}
	if err != nil || rec.Response().Status != 500 {
		t.Fatalf("want a 500, got err %v status %d", err, rec.Response().Status)
	}
	mustContain(t, logs.String(), "start_response called again")
}

func TestExcInfoBeforeHeadersReplacesThem(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			if err := plain(start); err != nil {
				return nil, err
			}
			failure := errors.New("database down")
			if _, err := start("503 Service Unavailable", [][2]string{{"X-Error", "1"}}, failure); err != nil {
				return nil, err
			}
			return Bytes([]byte("sorry")), nil
		}, Config{})
		rec, err := serve(t, app, scopeFor(version, "GET", "/"), nil)
		resp := rec.Response()
		if err != nil || resp.Status != 503 || header(resp.Headers, "x-error") != "1" || string(resp.Body) != "sorry" {
			t.Fatalf("err %v resp %+v", err, resp)
		}
	})
}

func TestExcInfoAfterHeadersAborts(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		failure := errors.New("half-way failure")
		body := &tracked{}
		var got error
		app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
			if err := startPartial(start); err != nil {
				return nil, err
			}
			_, got = start("500 Internal Server Error", nil, failure)
			return body, nil // even a handler that ignores the error gets aborted
		}, Config{})
		rec, err := serve(t, app, scopeFor(version, "GET", "/"), nil)
		if !errors.Is(got, failure) || !errors.Is(err, failure) {
			t.Fatalf("start_response returned %v, ServeASGI %v; both must wrap the exc_info", got, err)
		}
		if rec.Response().Complete {
			t.Fatal("an aborted response must not be completed")
		}
		body.waitClosed(t)
	})
}

func TestCloseCalledOnEveryPath(t *testing.T) {
	tests := []struct {
		name    string
		body    *tracked
		noStart bool
		send    func(ctx context.Context, m asgi.Message) error
		status  int
		abort   bool
	}{
		{"complete", &tracked{chunks: [][]byte{[]byte("a")}}, false, nil, 200, false},
		{"error before the first chunk", &tracked{err: errors.New("boom")}, false, nil, 500, false},
		{"error after the first chunk", &tracked{chunks: [][]byte{[]byte("a")}, err: errors.New("boom")}, false, nil, 200, true},
		{"panic in Next", &tracked{panic: true}, false, nil, 500, false},
		{"no start_response", &tracked{chunks: [][]byte{[]byte("a")}}, true, nil, 500, false},
		{"client disconnect", &tracked{chunks: [][]byte{[]byte("a"), []byte("b")}}, false,
			func(ctx context.Context, m asgi.Message) error { return asgi.ErrDisconnected }, 0, true},
	}
	for _, tt := range tests {
		apptest.ForVersions(t, func(t *testing.T, version string) {
			t.Run(tt.name, func(t *testing.T) {
				body := &tracked{chunks: tt.body.chunks, err: tt.body.err, panic: tt.body.panic}
				app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
					if tt.noStart {
						return body, nil
					}
					return body, plain(start)
				}, Config{})
				rec := asgitest.NewRecorder(asgi.ScopeHTTP)
				send := rec.Send
				if tt.send != nil {
					send = tt.send
				}
				err := app.ServeASGI(context.Background(), scopeFor(version, "GET", "/"), asgitest.Script(&asgi.HTTPDisconnect{}), send)
				body.waitClosed(t)
				if (err != nil) != tt.abort {
					t.Fatalf("ServeASGI error %v, want abort=%v", err, tt.abort)
				}
				if tt.status != 0 && rec.Response().Status != tt.status {
					t.Fatalf("status %d, want %d", rec.Response().Status, tt.status)
				}
			})
		})
	}
}

func TestHandlerPanicGives500AndWorkerSurvives(t *testing.T) {
	app, logs := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		if e.Get("PATH_INFO") == "/panic" {
			panic("handler exploded")
		}
		return Bytes([]byte("ok")), plain(start)
	}, Config{Workers: 1})
	for i := 0; i < 3; i++ {
		rec, err := serve(t, app, scopeFor("1.1", "GET", "/panic"), nil)
		if err != nil || rec.Response().Status != 500 || !rec.Response().Complete {
			t.Fatalf("panic: err %v resp %+v", err, rec.Response())
		}
	}
	rec, err := serve(t, app, scopeFor("1.1", "GET", "/ok"), nil)
	if err != nil || string(rec.Response().Body) != "ok" {
		t.Fatalf("the single worker did not survive: err %v resp %+v", err, rec.Response())
	}
	out := logs.String()
	mustContain(t, out, "handler exploded")
	mustContain(t, out, "path=/panic")
	mustContain(t, out, "method=GET")
	mustContain(t, out, "client=127.0.0.1:40000")
	mustContain(t, out, "stack=")
}

func TestHandlerErrorAfterHeadersAborts(t *testing.T) {
	app, logs := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		if err := startPartial(start); err != nil {
			return nil, err
		}
		return nil, errors.New("lost the database")
	}, Config{})
	rec, err := serve(t, app, scopeFor("1.1", "GET", "/"), nil)
	if err == nil || rec.Response().Complete {
		t.Fatalf("want an aborted response, got err %v complete %v", err, rec.Response().Complete)
	}
	mustContain(t, logs.String(), "lost the database")
}

func TestInvalidStartResponse(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		headers [][2]string
		want    error
	}{
		{"no reason", "200", nil, ErrInvalidStatus},
		{"letters", "2OO OK", nil, ErrInvalidStatus},
		{"informational", "100 Continue", nil, ErrInvalidStatus},
		{"too high", "600 Nope", nil, ErrInvalidStatus},
		{"CRLF in reason", "200 OK\r\nX: y", nil, ErrInvalidStatus},
		{"bad header name", "200 OK", [][2]string{{"X A", "1"}}, ErrInvalidHeader},
		{"CRLF in header value", "200 OK", [][2]string{{"X-A", "1\r\nSet-Cookie: x"}}, ErrInvalidHeader},
		{"hop-by-hop Connection", "200 OK", [][2]string{{"Connection", "close"}}, ErrInvalidHeader},
		{"hop-by-hop Transfer-Encoding", "200 OK", [][2]string{{"transfer-encoding", "chunked"}}, ErrInvalidHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
				_, got = start(tt.status, tt.headers, nil)
				return nil, got
			}, Config{})
			rec, err := serve(t, app, scopeFor("1.1", "GET", "/"), nil)
			if !errors.Is(got, tt.want) {
				t.Fatalf("start_response returned %v, want %v", got, tt.want)
			}
			if err != nil || rec.Response().Status != 500 {
				t.Fatalf("want 500, got %v %d", err, rec.Response().Status)
			}
		})
	}
}

func writeTemp(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	path := filepath.Join(t.TempDir(), "file.txt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// fileHandler answers with wsgi.file_wrapper over the file at path in blocks of
// block bytes, from byte 10 when the query string is "offset".
type fileHandler struct {
	path  string
	block int
	f     *os.File // the file the last request opened
}

func (h *fileHandler) handle(e Environ, start StartResponse) (Iterable, error) {
	f, err := os.Open(h.path)
	if err != nil {
		return nil, err
	}
	h.f = f
	if e.Get("QUERY_STRING") == "offset" {
		if _, err := f.Seek(10, 0); err != nil {
			return nil, err
		}
	}
	return e.FileWrapper()(f, h.block), plain(start)
}

func TestFileWrapperUsesPathsend(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		path, _ := writeTemp(t, 100_000)
		h := &fileHandler{path: path}
		app, _ := newApp(t, h.handle, Config{})
		scope := scopeFor(version, "GET", "/")
		scope.Extensions = map[string]any{asgi.ExtHTTPResponsePathsend: map[string]any{}}
		rec, err := serve(t, app, scope, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(rec.String()); got != "http.response.start http.response.pathsend" {
			t.Fatalf("messages %q", got)
		}
		ps := rec.Messages[1].(*asgi.HTTPResponsePathsend)
		if ps.Path != path || header(rec.Response().Headers, "content-length") != "100000" {
			t.Fatalf("pathsend %q, headers %q", ps.Path, rec.Response().Headers)
		}
		if _, err := h.f.Stat(); err == nil {
			t.Fatal("the file was not closed")
		}
	})
}

func TestFileWrapperStreamsWithoutPathsend(t *testing.T) {
	apptest.ForVersions(t, func(t *testing.T, version string) {
		path, data := writeTemp(t, 100_000)
		h := &fileHandler{path: path, block: 8192}
		app, _ := newApp(t, h.handle, Config{})
		for _, tc := range []struct {
			query, ext string
			want       []byte
		}{{"", "", data}, {"offset", asgi.ExtHTTPResponsePathsend, data[10:]}} {
			scope := scopeFor(version, "GET", "/?"+tc.query)
			if tc.ext != "" {
				scope.Extensions = map[string]any{tc.ext: map[string]any{}}
			}
			rec, err := serve(t, app, scope, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Response().Body; string(got) != string(tc.want) {
				t.Fatalf("%q: body of %d bytes, want %d", tc.query, len(got), len(tc.want))
			}
			if n := len(rec.Messages); n != 2+(len(tc.want)+8191)/8192 {
				t.Fatalf("%q: %d messages, want blocks of 8192 bytes", tc.query, n)
			}
			if _, err := h.f.Stat(); err == nil {
				t.Fatal("the file was not closed")
			}
		}
	})
}

func TestNonHTTPScopes(t *testing.T) {
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		t.Error("handler called for a non-HTTP scope")
		return nil, nil
	}, Config{})
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	if err := app.ServeASGI(context.Background(), &asgi.WebSocketScope{}, asgitest.Script(nil, &asgi.WebSocketConnect{}), rec.Send); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Messages[0].(*asgi.WebSocketClose); !ok || len(rec.Messages) != 1 {
		t.Fatalf("websocket scope: sent %s, want a close (403 denial)", rec)
	}
	err := app.ServeASGI(context.Background(), &asgi.LifespanScope{}, asgitest.Script(nil), rec.Send)
	if !errors.Is(err, ErrUnsupportedScope) {
		t.Fatalf("lifespan scope: %v", err)
	}
}

// Exchanges are pooled: start_response, write and wsgi.input kept from an earlier
// request must fail and must not reach the request being served now.
func TestCallablesKeptPastTheRequestAreDead(t *testing.T) {
	var (
		oldStart StartResponse
		oldWrite Write
		oldInput *Input
	)
	app, _ := newApp(t, func(e Environ, start StartResponse) (Iterable, error) {
		if oldStart == nil {
			w, err := start("200 OK", nil, nil)
			oldStart, oldWrite, oldInput = start, w, e.Input()
			return Empty(), err
		}
		if _, err := oldStart("500 Internal Server Error", nil, nil); !errors.Is(err, ErrAborted) {
			t.Errorf("kept start_response: %v", err)
		}
		if err := oldWrite([]byte("late")); !errors.Is(err, ErrAborted) {
			t.Errorf("kept write: %v", err)
		}
		if _, err := oldInput.Read(make([]byte, 8)); !errors.Is(err, ErrAborted) {
			t.Errorf("kept wsgi.input: %v", err)
		}
		body, err := io.ReadAll(e.Input())
		if err != nil {
			return nil, err
		}
		return Bytes(body), plain(start)
	}, Config{Workers: 1})
	if _, err := serve(t, app, scopeFor("1.1", "GET", "/"), nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		want := fmt.Sprintf("body %d", i)
		rec, err := serve(t, app, scopeFor("1.1", "POST", "/"), []byte(want))
		if err != nil {
			t.Fatal(err)
		}
		if resp := rec.Response(); resp.Status != 200 || string(resp.Body) != want || !resp.Complete {
			t.Fatalf("request %d: %d %q complete=%v", i, resp.Status, resp.Body, resp.Complete)
		}
	}
}
