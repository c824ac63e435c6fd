package static

import (
	"bytes"
	"compress/gzip"
	"context"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

var modTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

const lastMod = "Mon, 06 May 2024 07:08:09 GMT"

// testTree writes the files the tests serve into a new directory, plus a secret file
// and a directory outside it, and returns the served directory.
func testTree(t testing.TB) string {
	t.Helper()
	top := t.TempDir()
	root := filepath.Join(top, "root")
	files := map[string]string{
		"hello.txt":           "Hello, static!\n",
		"digits.txt":          "0123456789",
		"style.css":           "body { color: red }\n",
		"style.css.gz":        gzipped("body { color: red }\n"),
		"style.css.br":        "fake brotli bytes",
		"only-gz.js":          "console.log(1)\n",
		"only-gz.js.gz":       gzipped("console.log(1)\n"),
		"empty.bin":           "",
		"docs/index.html":     "<h1>docs</h1>\n",
		"noindex/a.txt":       "a",
		"dir.txt/inside":      "x",
		"../secret.txt":       "top secret\n",
		"../outside/file.txt": "outside\n",
	}
	for name, body := range files {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), 0o644))
		must(t, os.Chtimes(p, modTime, modTime))
	}
	must(t, os.Symlink(filepath.Join(top, "secret.txt"), filepath.Join(root, "leak.txt")))
	must(t, os.Symlink("../outside", filepath.Join(root, "leakdir")))
	must(t, os.Symlink("hello.txt", filepath.Join(root, "alias.txt")))
	must(t, os.Symlink(filepath.Join(root, "docs"), filepath.Join(root, "absdocs")))
	return root
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func gzipped(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

type result struct {
	asgitest.Response
	pathsend string
	err      error
}

// call runs app on method and target; ext offers pathsend in the scope; root sets the
// scope's RootPath (the path then includes it).
func call(app asgi.App, method, target, root string, ext bool, headers ...string) result {
	s := asgitest.NewHTTPScope(method, root+target, headers...)
	s.RootPath = root
	if ext {
		s.Extensions = map[string]any{asgi.ExtHTTPResponsePathsend: map[string]any{}}
	}
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	err := app.ServeASGI(context.Background(), s, asgitest.Script(&asgi.HTTPDisconnect{}, &asgi.HTTPRequest{}), rec.Send)
	if err == nil {
		err = rec.Err
	}
	r := result{Response: rec.Response(), err: err}
	for _, m := range rec.Messages {
		if p, ok := m.(*asgi.HTTPResponsePathsend); ok {
			r.pathsend = p.Path
			r.Body = append(r.Body, pathsendBody(p)...)
		}
	}
	return r
}

// pathsendBody reads the body a pathsend asks for, from its File (closing it, as the
// server would) or its Path.
func pathsendBody(p *asgi.HTTPResponsePathsend) []byte {
	f := p.File
	if f == nil {
		var err error
		if f, err = os.Open(p.Path); err != nil {
			return nil
		}
	}
	defer f.Close()
	n := p.Length
	if n == 0 {
		info, _ := f.Stat()
		n = info.Size() - p.Offset
	}
	b := make([]byte, n)
	k, _ := f.ReadAt(b, p.Offset)
	return b[:k]
}

// nextApp answers 299 "next" to everything it gets.
var nextApp = asgi.AppFunc(func(ctx context.Context, scope asgi.Scope, receive asgi.Receive, send asgi.Send) error {
	if err := send(ctx, &asgi.HTTPResponseStart{Status: 299}); err != nil {
		return err
	}
	return send(ctx, &asgi.HTTPResponseBody{Body: []byte("next")})
})

func TestStatic(t *testing.T) {
	root := testTree(t)
	plain, err := New(Config{Dir: root, Index: "index.html", CacheControl: "public, max-age=60"})
	must(t, err)
	front, err := New(Config{Dir: root, Prefix: "/static", Next: nextApp})
	must(t, err)
	weak, err := New(Config{Dir: root, WeakETags: true})
	must(t, err)
	info, _ := os.Stat(filepath.Join(root, "digits.txt"))
	etag := etagOf(t, plain, "/digits.txt")
	if want := "\"" + strconv.FormatInt(info.ModTime().UnixNano(), 16) + "-a\""; etag != want {
		t.Fatalf("etag %s, want %s", etag, want)
	}
	tests := []struct {
		name         string
		app          *App
		method, path string
		root         string
		ext          bool
		headers      []string
		status       int
		body         string   // "-" skips the check
		want         []string // header name, value pairs that must be present
		absent       []string // header names that must be absent
		pathsend     bool
	}{
		{name: "get", app: plain, method: "GET", path: "/hello.txt", status: 200, body: "Hello, static!\n",
			want: []string{"content-type", "text/plain; charset=utf-8", "content-length", "15", "last-modified", lastMod,
				"cache-control", "public, max-age=60", "accept-ranges", "bytes"}, absent: []string{"vary"}},
		{name: "pathsend when offered", app: plain, method: "GET", path: "/hello.txt", ext: true, status: 200, body: "Hello, static!\n", pathsend: true},
		{name: "head", app: plain, method: "HEAD", path: "/hello.txt", ext: true, status: 200, body: "",
			want: []string{"content-length", "15", "content-type", "text/plain; charset=utf-8"}},
		{name: "post 405", app: plain, method: "POST", path: "/hello.txt", status: 405, body: "-", want: []string{"allow", "GET, HEAD"}},
		{name: "post to missing without next 405", app: plain, method: "DELETE", path: "/nope", status: 405, body: "-"},
		{name: "post with next on a file 405", app: front, method: "POST", path: "/static/hello.txt", status: 405, body: "-"},
		{name: "post with next on no file passes", app: front, method: "POST", path: "/static/nope", status: 299, body: "next"},
		{name: "missing 404", app: plain, method: "GET", path: "/nope.txt", status: 404, body: "Not Found\n"},
		{name: "unknown type", app: plain, method: "GET", path: "/noindex/a.txt", status: 200, body: "a"},
		{name: "empty file", app: plain, method: "GET", path: "/empty.bin", ext: true, status: 200, body: "",
			want: []string{"content-length", "0", "content-type", "application/octet-stream"}},
		{name: "symlink inside root", app: plain, method: "GET", path: "/alias.txt", status: 200, body: "Hello, static!\n"},
		{name: "absolute symlink inside root", app: plain, method: "GET", path: "/absdocs/", status: 200, body: "<h1>docs</h1>\n"},

		// Directories and the index.
		{name: "index", app: plain, method: "GET", path: "/docs/", status: 200, body: "<h1>docs</h1>\n",
			want: []string{"content-type", "text/html; charset=utf-8"}},
		{name: "index redirect", app: plain, method: "GET", path: "/docs", status: 301, body: "-", want: []string{"location", "/docs/"}},
		{name: "index redirect keeps the root path", app: plain, method: "GET", path: "/docs", root: "/files", status: 301, body: "-",
			want: []string{"location", "/files/docs/"}},
		{name: "root without index", app: plain, method: "GET", path: "/", status: 404, body: "-"},
		{name: "dir without index", app: plain, method: "GET", path: "/noindex/", status: 404, body: "-"},
		{name: "no index configured", app: weak, method: "GET", path: "/docs/", status: 404, body: "-"},
		{name: "file with slash", app: plain, method: "GET", path: "/hello.txt/", status: 404, body: "-"},
		{name: "dir named like a file", app: plain, method: "GET", path: "/dir.txt", status: 404, body: "-"},

		// Traversal.
		{name: "dotdot", app: plain, method: "GET", path: "/../secret.txt", status: 404, body: "Not Found\n"},
		{name: "dotdot inside", app: plain, method: "GET", path: "/docs/../../secret.txt", status: 404, body: "-"},
		{name: "dot segment", app: plain, method: "GET", path: "/./hello.txt", status: 404, body: "-"},
		{name: "double slash", app: plain, method: "GET", path: "//hello.txt", status: 404, body: "-"},
		{name: "nul", app: plain, method: "GET", path: "/hello.txt\x00.png", status: 404, body: "-"},
		{name: "backslash", app: plain, method: "GET", path: "/..\\secret.txt", status: 404, body: "-"},
		{name: "symlink leaving root", app: plain, method: "GET", path: "/leak.txt", status: 404, body: "-"},
		{name: "symlinked dir leaving root", app: plain, method: "GET", path: "/leakdir/file.txt", status: 404, body: "-"},
		{name: "traversal never reaches next", app: front, method: "GET", path: "/static/../secret.txt", status: 404, body: "-"},
		{name: "leaving symlink never reaches next", app: front, method: "GET", path: "/static/leak.txt", status: 404, body: "-"},

		// Prefix and fall-through.
		{name: "prefix file", app: front, method: "GET", path: "/static/hello.txt", status: 200, body: "Hello, static!\n"},
		{name: "prefix miss passes", app: front, method: "GET", path: "/static/nope", status: 299, body: "next"},
		{name: "outside prefix passes", app: front, method: "GET", path: "/hello.txt", status: 299, body: "next"},
		{name: "prefix boundary", app: front, method: "GET", path: "/statichello.txt", status: 299, body: "next"},
		{name: "prefix under root path", app: front, method: "GET", path: "/static/hello.txt", root: "/app", status: 200, body: "Hello, static!\n"},
		{name: "mounted route path", app: plain, method: "GET", path: "/hello.txt", root: "/static", status: 200, body: "Hello, static!\n"},

		// Conditional requests.
		{name: "if-none-match 304", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-none-match", etag}, status: 304, body: "",
			want: []string{"etag", etag, "cache-control", "public, max-age=60"}, absent: []string{"content-length"}},
		{name: "if-none-match list weak", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-none-match", `"x", W/` + etag}, status: 304, body: ""},
		{name: "if-none-match star", app: plain, method: "HEAD", path: "/digits.txt", headers: []string{"if-none-match", "*"}, status: 304, body: ""},
		{name: "if-none-match other", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-none-match", `"other"`}, status: 200, body: "0123456789"},
		{name: "if-modified-since same", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-modified-since", lastMod}, status: 304, body: ""},
		{name: "if-modified-since later", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-modified-since", "Tue, 07 May 2024 00:00:00 GMT"}, status: 304, body: ""},
		{name: "if-modified-since earlier", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-modified-since", "Sun, 05 May 2024 00:00:00 GMT"}, status: 200, body: "0123456789"},
		{name: "if-none-match wins over ims", app: plain, method: "GET", path: "/digits.txt", headers: []string{"if-none-match", `"other"`, "if-modified-since", lastMod}, status: 200, body: "0123456789"},
		{name: "weak etag", app: weak, method: "GET", path: "/digits.txt", headers: []string{"if-none-match", etag}, status: 304, body: "", want: []string{"etag", "W/" + etag}},

		// Ranges.
		{name: "range", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=2-5"}, ext: true, status: 206, body: "2345",
			want: []string{"content-range", "bytes 2-5/10", "content-length", "4", "content-type", "text/plain; charset=utf-8"}, pathsend: true},
		{name: "range open end", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=7-"}, status: 206, body: "789"},
		{name: "range suffix", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=-3"}, status: 206, body: "789",
			want: []string{"content-range", "bytes 7-9/10"}},
		{name: "range clamps end", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=8-100"}, status: 206, body: "89"},
		{name: "range head", app: plain, method: "HEAD", path: "/digits.txt", headers: []string{"range", "bytes=2-5"}, status: 206, body: "",
			want: []string{"content-length", "4"}},
		{name: "range unsatisfiable", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=10-"}, status: 416, body: "-",
			want: []string{"content-range", "bytes */10"}},
		{name: "range empty file", app: plain, method: "GET", path: "/empty.bin", headers: []string{"range", "bytes=0-"}, status: 416, body: "-",
			want: []string{"content-range", "bytes */0"}},
		{name: "range bad syntax ignored", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=5-2"}, status: 200, body: "0123456789"},
		{name: "range other unit ignored", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "items=1-2"}, status: 200, body: "0123456789"},
		{name: "range too greedy ignored", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=0-8,1-9"}, status: 200, body: "0123456789"},
		{name: "if-range etag matches", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=0-0", "if-range", etag}, status: 206, body: "0"},
		{name: "if-range etag differs", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=0-0", "if-range", `"old"`}, status: 200, body: "0123456789"},
		{name: "if-range date matches", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=0-0", "if-range", lastMod}, status: 206, body: "0"},
		{name: "if-range date differs", app: plain, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=0-0", "if-range", "Sun, 05 May 2024 00:00:00 GMT"}, status: 200, body: "0123456789"},
		{name: "if-range weak never matches", app: weak, method: "GET", path: "/digits.txt", headers: []string{"range", "bytes=0-0", "if-range", "W/" + etag}, status: 200, body: "0123456789"},

		// Precompressed siblings.
		{name: "gzip sibling", app: plain, method: "GET", path: "/style.css", headers: []string{"accept-encoding", "gzip"}, ext: true, status: 200,
			body: gzipped("body { color: red }\n"), want: []string{"content-encoding", "gzip", "vary", "Accept-Encoding", "content-type", "text/css; charset=utf-8"}, pathsend: true},
		{name: "br preferred", app: plain, method: "GET", path: "/style.css", headers: []string{"accept-encoding", "gzip, deflate, br"}, status: 200,
			body: "fake brotli bytes", want: []string{"content-encoding", "br"}},
		{name: "q-values", app: plain, method: "GET", path: "/style.css", headers: []string{"accept-encoding", "br;q=0.5, gzip;q=0.8"}, status: 200,
			want: []string{"content-encoding", "gzip"}, body: "-"},
		{name: "q=0 refuses", app: plain, method: "GET", path: "/style.css", headers: []string{"accept-encoding", "br;q=0, gzip;q=0"}, status: 200,
			body: "body { color: red }\n", want: []string{"vary", "Accept-Encoding"}, absent: []string{"content-encoding"}},
		{name: "star", app: plain, method: "GET", path: "/style.css", headers: []string{"accept-encoding", "*;q=0.1, br;q=0"}, status: 200,
			want: []string{"content-encoding", "gzip"}, body: "-"},
		{name: "identity only", app: plain, method: "GET", path: "/style.css", status: 200, body: "body { color: red }\n",
			want: []string{"vary", "Accept-Encoding"}, absent: []string{"content-encoding"}},
		{name: "only gz", app: plain, method: "GET", path: "/only-gz.js", headers: []string{"accept-encoding", "br, gzip"}, status: 200,
			want: []string{"content-encoding", "gzip", "content-type", "text/javascript; charset=utf-8"}, body: "-"},
		{name: "sibling ranges", app: plain, method: "GET", path: "/style.css", headers: []string{"accept-encoding", "br", "range", "bytes=0-3"}, status: 206,
			body: "fake", want: []string{"content-encoding", "br", "content-range", "bytes 0-3/17"}},
		{name: "sibling itself", app: plain, method: "GET", path: "/style.css.gz", status: 200, body: "-",
			want: []string{"content-type", "application/gzip"}, absent: []string{"content-encoding"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(tt.app, tt.method, tt.path, tt.root, tt.ext, tt.headers...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !r.Complete {
				t.Fatal("response not complete")
			}
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d (body %q)", r.Status, tt.status, r.Body)
			}
			if tt.body != "-" && string(r.Body) != tt.body {
				t.Fatalf("body %q, want %q", r.Body, tt.body)
			}
			for i := 0; i+1 < len(tt.want); i += 2 {
				if got := string(r.Headers.Get(tt.want[i])); got != tt.want[i+1] {
					t.Errorf("%s: %q, want %q", tt.want[i], got, tt.want[i+1])
				}
			}
			for _, name := range tt.absent {
				if r.Headers.Has(name) {
					t.Errorf("%s present: %q", name, r.Headers.Get(name))
				}
			}
			if (r.pathsend != "") != tt.pathsend {
				t.Fatalf("pathsend %q, want %v", r.pathsend, tt.pathsend)
			}
		})
	}
}

func etagOf(t *testing.T, app *App, path string) string {
	t.Helper()
	r := call(app, "HEAD", path, "", false)
	return string(r.Headers.Get("etag"))
}

func TestMultipleRanges(t *testing.T) {
	for _, fsys := range []bool{false, true} {
		root := testTree(t)
		cfg := Config{Dir: root}
		if fsys {
			cfg = Config{FS: os.DirFS(root)}
		}
		app, err := New(cfg)
		must(t, err)
		for _, method := range []string{"GET", "HEAD"} {
			r := call(app, method, "/digits.txt", "", true, "range", "bytes=0-1, 4-5,-2")
			if r.Status != 206 {
				t.Fatalf("status %d", r.Status)
			}
			mt, params, err := mime.ParseMediaType(string(r.Headers.Get("content-type")))
			if err != nil || mt != "multipart/byteranges" {
				t.Fatalf("content-type %q", r.Headers.Get("content-type"))
			}
			if method == "HEAD" {
				if len(r.Body) != 0 || string(r.Headers.Get("content-length")) == "" {
					t.Fatalf("HEAD body %q", r.Body)
				}
				continue
			}
			if got := string(r.Headers.Get("content-length")); got != strconv.Itoa(len(r.Body)) {
				t.Fatalf("content-length %s, body %d bytes", got, len(r.Body))
			}
			mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
			var got []string
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				var b bytes.Buffer
				b.ReadFrom(p)
				got = append(got, p.Header.Get("Content-Range")+"="+b.String()+";"+p.Header.Get("Content-Type"))
			}
			want := "bytes 0-1/10=01;text/plain; charset=utf-8|bytes 4-5/10=45;text/plain; charset=utf-8|bytes 8-9/10=89;text/plain; charset=utf-8"
			if strings.Join(got, "|") != want {
				t.Fatalf("parts %q", got)
			}
		}
	}
}

// TestFS serves an fs.FS: streamed (no pathsend even when offered), ranges via
// ReadAt or Seek, the index, the precompressed sibling.
func TestFS(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes: three blocks
	fsys := fstest.MapFS{
		"index.html":       {Data: []byte("<p>hi</p>"), ModTime: modTime},
		"app.js":           {Data: []byte("js"), ModTime: modTime},
		"app.js.gz":        {Data: []byte(gzipped("js")), ModTime: modTime},
		"big.bin":          {Data: big, ModTime: modTime},
		"sub/../index.htm": {Data: []byte("x")},
	}
	app, err := New(Config{FS: fsys, Index: "index.html"})
	must(t, err)
	r := call(app, "GET", "/", "", true)
	if r.Status != 200 || string(r.Body) != "<p>hi</p>" || r.pathsend != "" {
		t.Fatalf("index: %d %q %q", r.Status, r.Body, r.pathsend)
	}
	r = call(app, "GET", "/app.js", "", true, "accept-encoding", "gzip")
	if r.Status != 200 || string(r.Headers.Get("content-encoding")) != "gzip" || string(r.Body) != gzipped("js") {
		t.Fatalf("gzip: %d %q", r.Status, r.Headers)
	}
	r = call(app, "GET", "/big.bin", "", true)
	if r.Status != 200 || !bytes.Equal(r.Body, big) {
		t.Fatalf("big: %d, %d bytes", r.Status, len(r.Body))
	}
	r = call(app, "GET", "/big.bin", "", true, "range", "bytes=65530-131080")
	if r.Status != 206 || !bytes.Equal(r.Body, big[65530:131081]) {
		t.Fatalf("big range: %d, %d bytes", r.Status, len(r.Body))
	}
	r = call(app, "GET", "/sub/../index.htm", "", true)
	if r.Status != 404 {
		t.Fatalf("dotdot in fs: %d", r.Status)
	}
}

func TestBigFileRangeDir(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz"), 20000)
	must(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	app, err := New(Config{Dir: dir})
	must(t, err)
	r := call(app, "GET", "/big.bin", "", false)
	if r.Status != 200 || !bytes.Equal(r.Body, big) {
		t.Fatalf("streamed: %d, %d bytes", r.Status, len(r.Body))
	}
	r = call(app, "GET", "/big.bin", "", true, "range", "bytes=100000-")
	if r.Status != 206 || !bytes.Equal(r.Body, big[100000:]) || r.pathsend == "" {
		t.Fatalf("range: %d, %d bytes, pathsend %q", r.Status, len(r.Body), r.pathsend)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	must(t, os.WriteFile(file, nil, 0o644))
	for name, cfg := range map[string]Config{
		"nothing":    {},
		"both":       {Dir: dir, FS: fstest.MapFS{}},
		"missing":    {Dir: filepath.Join(dir, "nope")},
		"file":       {Dir: file},
		"prefix":     {Dir: dir, Prefix: "static"},
		"index path": {Dir: dir, Index: "../x.html"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestPassOn(t *testing.T) {
	dir := t.TempDir()
	alone, _ := New(Config{Dir: dir, Prefix: "/static"})
	ws := &asgi.WebSocketScope{Path: "/static/x"}
	rec := asgitest.NewRecorder(asgi.ScopeWebSocket)
	must(t, alone.ServeASGI(context.Background(), ws, asgitest.Script(nil), rec.Send))
	if rec.String() != "websocket.close " {
		t.Fatalf("ws without next: %s", rec)
	}
	if err := alone.ServeASGI(context.Background(), &asgi.LifespanScope{}, asgitest.Script(nil), rec.Send); err == nil {
		t.Fatal("lifespan without next: no error")
	}
	r := call(alone, "GET", "/other", "", false)
	if r.Status != 404 {
		t.Fatalf("outside prefix without next: %d", r.Status)
	}
	front, _ := New(Config{Dir: dir, Prefix: "/static", Next: capable{}})
	if asgi.CanInline(front, asgitest.NewHTTPScope("GET", "/static/x")) {
		t.Fatal("file request inline")
	}
	if !asgi.CanInline(front, asgitest.NewHTTPScope("GET", "/app")) {
		t.Fatal("next's inline lost")
	}
	if asgi.WebSocketHandlerFor(front, ws) == nil {
		t.Fatal("next's event handler lost")
	}
	if asgi.CanInline(alone, asgitest.NewHTTPScope("GET", "/app")) || asgi.WebSocketHandlerFor(alone, ws) != nil {
		t.Fatal("capabilities without next")
	}
}

type capable struct{}

func (capable) ServeASGI(context.Context, asgi.Scope, asgi.Receive, asgi.Send) error { return nil }
func (capable) Inline(asgi.Scope) bool                                               { return true }
func (capable) WebSocketHandler(*asgi.WebSocketScope) asgi.WebSocketHandler          { return handler{} }

type handler struct{}

func (handler) HandleWebSocket(asgi.Message, asgi.WebSocketSender) error { return nil }

// TestInline: file requests run on the loop only where the server sends pathsend with
// sendfile, for GET and HEAD of at most one range, from a directory, and when a miss
// may fall through on the loop as well.
func TestInline(t *testing.T) {
	dir := t.TempDir()
	alone, _ := New(Config{Dir: dir, Prefix: "/static"})
	front, _ := New(Config{Dir: dir, Prefix: "/static", Next: capable{}})
	blocking, _ := New(Config{Dir: dir, Prefix: "/static", Next: nextApp})
	noInline, _ := New(Config{Dir: dir, Prefix: "/static", NoInline: true})
	fsys, _ := New(Config{FS: fstest.MapFS{}, Prefix: "/static"})
	scope := func(method string, zeroCopy bool, headers ...string) *asgi.HTTPScope {
		s := asgitest.NewHTTPScope(method, "/static/x", headers...)
		s.Extensions = map[string]any{asgi.ExtHTTPResponsePathsend: map[string]any{asgi.PathsendSendfile: zeroCopy}}
		return s
	}
	for _, tt := range []struct {
		name  string
		app   *App
		scope *asgi.HTTPScope
		want  bool
	}{
		{"get", alone, scope("GET", true), true},
		{"head", alone, scope("HEAD", true), true},
		{"inline next", front, scope("GET", true), true},
		{"one range", alone, scope("GET", true, "range", "bytes=0-9"), true},
		{"no sendfile", alone, scope("GET", false), false},
		{"no pathsend", alone, asgitest.NewHTTPScope("GET", "/static/x"), false},
		{"post", alone, scope("POST", true), false},
		{"ranges", alone, scope("GET", true, "range", "bytes=0-1,5-6"), false},
		{"blocking next", blocking, scope("GET", true), false},
		{"no inline", noInline, scope("GET", true), false},
		{"fs", fsys, scope("GET", true), false},
	} {
		if got := asgi.CanInline(tt.app, tt.scope); got != tt.want {
			t.Errorf("%s: inline %v, want %v", tt.name, got, tt.want)
		}
	}
}
