package nethttpdemo

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"time"
)

//go:embed static
var embedded embed.FS

// Static is the small directory served under /static/: hello.txt, index.html,
// sub/style.css and data.txt (100 000 bytes of numbered lines, for Range requests).
var Static fs.FS = func() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err)
	}
	return sub
}()

// Mux returns a new ServeMux with the demo routes:
//
//	GET /          a hello in text/plain
//	GET /stream    ?n=3&delay=100ms: n lines, flushed one by one
//	GET /static/   http.FileServer over Static (Range, If-Modified-Since, listings)
//
// The mux is safe for concurrent use, as every http.Handler must be.
func Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", hello)
	mux.HandleFunc("GET /stream", stream)
	mux.Handle("GET /static/", http.StripPrefix("/static", http.FileServerFS(Static)))
	return mux
}

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Hello from net/http through asgo (%s)\n", r.Proto)
}

// stream writes n lines with a pause between them, flushing each.
func stream(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n <= 0 || n > 100 {
		n = 3
	}
	delay, err := time.ParseDuration(r.URL.Query().Get("delay"))
	if err != nil || delay < 0 || delay > 5*time.Second {
		delay = 100 * time.Millisecond
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for i := range n {
		if i > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprintf(w, "line %d\n", i+1)
		http.NewResponseController(w).Flush()
	}
}
