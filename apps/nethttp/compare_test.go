package nethttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/apps/internal/apptest"
	"github.com/asgo-dev/asgo/apps/nethttp/nethttpdemo"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/protocol/asgi/asgitest"
)

// compareMux holds the standard-library handlers whose responses through the adapter
// must equal those of net/http's own server.
func compareMux() http.Handler {
	mux := nethttpdemo.Mux()
	mux.HandleFunc("GET /small", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, world!\n")
	})
	mux.HandleFunc("GET /html", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<!DOCTYPE html><p>sniff me</p>")
	})
	mux.HandleFunc("GET /sized/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		w.Write(bytes.Repeat([]byte("x"), n))
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
		w.Header().Set("X-Too-Late", "ignored")
	})
	mux.HandleFunc("GET /nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNoContent)
		if _, err := w.Write([]byte("x")); err != http.ErrBodyNotAllowed {
			panic("write on 204 must fail")
		}
	})
	mux.HandleFunc("GET /notmodified", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Etag", `"v1"`)
		w.WriteHeader(http.StatusNotModified)
	})
	mux.HandleFunc("GET /declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.Write([]byte("12345"))
	})
	mux.HandleFunc("GET /trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		io.WriteString(w, "body with trailers")
		w.Header().Set("X-Checksum", "abc123")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// Without full duplex net/http's HTTP/1 server stops reading the body once the
		// response has started; asgo always allows it.
		http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("GET /request", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "method=%s uri=%s path=%s query=%s host=%s proto=%s te=%v close=%v\n",
			r.Method, r.RequestURI, r.URL.Path, r.URL.RawQuery, r.Host, r.Proto, r.TransferEncoding, r.Close)
		if r.ProtoMajor == 1 {
			// net/http's HTTP/2 server knows from END_STREAM that a request has no body;
			// the contract does not carry that, so asgo reports -1 (TestRequestFraming).
			fmt.Fprintf(w, "cl=%d\n", r.ContentLength)
		}
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s: %q\n", k, r.Header[k])
		}
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/small", http.StatusFound)
	})
	mux.HandleFunc("POST /only-post", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}

type compareCase struct {
	name    string
	method  string
	target  string
	headers []string // name, value pairs (lower-case names, as in scopes)
	body    string
}

var compareCases = []compareCase{
	{name: "demo hello", method: "GET", target: "/"},
	{name: "small body gets a length", method: "GET", target: "/small"},
	{name: "sniffed html", method: "GET", target: "/html"},
	{name: "body at the 2 KiB threshold", method: "GET", target: "/sized/2048"},
	{name: "body over the 2 KiB threshold", method: "GET", target: "/sized/2049"},
	{name: "body at the 4 KiB threshold", method: "GET", target: "/sized/4096"},
	{name: "body over the 4 KiB threshold", method: "GET", target: "/sized/4097"},
	{name: "large body", method: "GET", target: "/sized/300000"},
	{name: "status and headers", method: "GET", target: "/json"},
	{name: "204 drops body headers", method: "GET", target: "/nocontent"},
	{name: "304 drops body headers", method: "GET", target: "/notmodified"},
	{name: "declared length", method: "GET", target: "/declared"},
	{name: "trailers", method: "GET", target: "/trailers"},
	{name: "echo", method: "POST", target: "/echo", headers: []string{"content-type", "text/plain"}, body: strings.Repeat("echo ", 3000)},
	{name: "request fields", method: "GET", target: "/request?a=1&b=%20x", headers: []string{"x-one", "1", "x-two", "a", "x-two", "b", "accept", "*/*"}},
	{name: "redirect", method: "GET", target: "/redirect"},
	{name: "not found", method: "GET", target: "/nope"},
	{name: "method not allowed", method: "GET", target: "/only-post"},
	{name: "HEAD small", method: "HEAD", target: "/small"},
	{name: "HEAD large", method: "HEAD", target: "/sized/10000"},
	{name: "file", method: "GET", target: "/static/hello.txt"},
	{name: "file HEAD", method: "HEAD", target: "/static/data.txt"},
	{name: "file index", method: "GET", target: "/static/"},
	{name: "directory listing", method: "GET", target: "/static/sub/"},
	{name: "directory redirect", method: "GET", target: "/static/sub"},
	{name: "large file", method: "GET", target: "/static/data.txt"},
	{name: "range", method: "GET", target: "/static/data.txt", headers: []string{"range", "bytes=100-199"}},
	{name: "suffix range", method: "GET", target: "/static/data.txt", headers: []string{"range", "bytes=-10"}},
	{name: "unsatisfiable range", method: "GET", target: "/static/data.txt", headers: []string{"range", "bytes=200000-"}},
	{name: "stream with Flush", method: "GET", target: "/stream?n=3&delay=1ms"},
}

// result is the comparable part of a response: what a client sees, minus Date.
type result struct {
	Status  int
	Header  http.Header
	Body    string
	Trailer http.Header
}

func (r result) String() string {
	return fmt.Sprintf("status %d\nheader %v\ntrailer %v\nbody %d bytes %.200q", r.Status, r.Header, r.Trailer, len(r.Body), r.Body)
}

// viaNetHTTP serves c with net/http's own server (HTTP/1.1, or unencrypted HTTP/2).
func viaNetHTTP(t *testing.T, h http.Handler, version string, c compareCase) result {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if version == "2" {
		srv.Config.Protocols = h2cOnly()
	}
	srv.Start()
	defer srv.Close()
	return fetch(t, srv.URL, version, c)
}

func h2cOnly() *http.Protocols {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &p
}

// newClient returns a client speaking HTTP/1.1 or unencrypted HTTP/2 (prior knowledge)
// that neither follows redirects nor asks for compression.
func newClient(version string) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	if version == "2" {
		tr.Protocols = h2cOnly()
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fetch sends c to the server at base and returns what the client sees, minus Date
// and Server.
func fetch(t *testing.T, base, version string, c compareCase) result {
	t.Helper()
	client := newClient(version)
	defer client.CloseIdleConnections()
	req, err := http.NewRequest(c.method, base+c.target, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "example.com"
	if c.body == "" {
		req.Body = nil
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Add(c.headers[i], c.headers[i+1])
	}
	req.Header.Set("User-Agent", "compare")
	resp, body := apptest.Fetch(t, client, req)
	if resp.ProtoMajor != map[string]int{"1.1": 1, "2": 2}[version] {
		t.Fatalf("response over %s, want HTTP/%s", resp.Proto, version)
	}
	resp.Header.Del("Date")   // differs by time; asgo's server sets its own
	resp.Header.Del("Server") // asgo's server names itself; net/http does not
	return result{Status: resp.StatusCode, Header: resp.Header, Body: body, Trailer: nonEmpty(resp.Trailer)}
}

// viaAdapter serves c through the adapter with the scope a server would build.
func viaAdapter(t *testing.T, h http.Handler, version string, c compareCase) result {
	t.Helper()
	headers := append([]string{"host", "example.com", "user-agent", "compare"}, c.headers...)
	if c.body != "" {
		headers = append(headers, "content-length", fmt.Sprint(len(c.body)))
	}
	scope := asgitest.NewHTTPScope(c.method, c.target, headers...)
	scope.HTTPVersion = version
	scope.Extensions = map[string]any{asgi.ExtHTTPResponseTrailers: map[string]any{}}
	rec := asgitest.NewRecorder(asgi.ScopeHTTP)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	receive := asgitest.Script(&asgi.HTTPDisconnect{}, asgitest.Body([]byte(c.body), 1000)...)
	if err := New(h, Config{}).ServeASGI(ctx, scope, receive, rec.Send); err != nil {
		t.Fatalf("ServeASGI: %v", err)
	}
	resp := rec.Response()
	if !resp.Complete {
		t.Fatalf("response not complete: %s", rec)
	}
	return result{Status: resp.Status, Header: clientView(resp.Headers), Body: string(resp.Body),
		Trailer: nonEmpty(toHeader(resp.Trailers))}
}

// clientView turns sent headers into what net/http's client shows: canonical keys and
// the Trailer header consumed into Response.Trailer.
func clientView(h asgi.Headers) http.Header {
	out := toHeader(h)
	out.Del("Trailer")
	return out
}

func toHeader(h asgi.Headers) http.Header {
	out := http.Header{}
	for _, f := range h {
		out.Add(string(f.Name), string(f.Value))
	}
	return out
}

func nonEmpty(h http.Header) http.Header {
	if len(h) == 0 {
		return nil
	}
	return h
}

// compareAll runs every compare case under each HTTP version as a subtest and fails
// it when what asgo returns for the case differs from what net/http's server returns.
func compareAll(t *testing.T, h http.Handler, asgo func(t *testing.T, version string, c compareCase) result) {
	for _, version := range apptest.Versions {
		for _, c := range compareCases {
			t.Run("HTTP/"+version+"/"+c.name, func(t *testing.T) {
				want := viaNetHTTP(t, h, version, c)
				got := asgo(t, version, c)
				if want.String() != got.String() {
					t.Fatalf("through asgo:\n%s\nthrough net/http:\n%s", got, want)
				}
			})
		}
	}
}

func TestSameResponsesAsNetHTTP(t *testing.T) {
	h := compareMux()
	compareAll(t, h, func(t *testing.T, version string, c compareCase) result {
		return viaAdapter(t, h, version, c)
	})
}
