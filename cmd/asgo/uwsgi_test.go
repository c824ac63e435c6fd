package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asgo's own uwsgi listener (--uwsgi-bind) behind a real nginx with uwsgi_pass.

func uwsgiSetup(t *testing.T, bind string, args ...string) (*proc, *ngxProxy) {
	t.Helper()
	p := startAsgoCmd(t, append([]string{"serve", "--uwsgi-bind", bind}, args...)...)
	upstream := strings.TrimPrefix(p.addr, "uwsgi:")
	return p, startNginxConf(t, "uwsgi_asgo.conf.tmpl", upstream)
}

func TestUWSGIListenerBehindNginx(t *testing.T) {
	for _, bind := range []string{"127.0.0.1:0", "unix:" + filepath.Join(t.TempDir(), "uwsgi.sock")} {
		t.Run(strings.SplitN(bind, ":", 2)[0], func(t *testing.T) {
			p, n := uwsgiSetup(t, bind)
			c := ngxClient(t)
			for i := range 3 {
				resp, body := do(t, c, newReq(t, "GET", n.url("/"), nil))
				if resp.StatusCode != 200 || string(body) != "Hello, World!" {
					t.Fatalf("GET / #%d = %d %q", i, resp.StatusCode, body)
				}
			}
			resp, body := do(t, c, newReq(t, "GET", n.url("/no/such/route"), nil))
			if resp.StatusCode != 404 {
				t.Errorf("GET /no/such/route = %d %q", resp.StatusCode, body)
			}

			// The WSGI-style environ, as nginx sent it.
			resp, body = do(t, c, newReq(t, "GET", n.url("/wsgi/environ?a=1&b=2"), nil))
			var env map[string]any
			if err := json.Unmarshal(body, &env); resp.StatusCode != 200 || err != nil {
				t.Fatalf("GET /wsgi/environ = %d %v %s", resp.StatusCode, err, body)
			}
			for k, want := range map[string]string{"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/wsgi", "PATH_INFO": "/environ",
				"QUERY_STRING": "a=1&b=2", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1"} {
				if got := fmt.Sprint(env[k]); got != want {
					t.Errorf("environ %s = %q, want %q", k, got, want)
				}
			}

			// Several MiB uploaded and echoed, streamed both ways.
			up := patternBody(t, 40<<20)
			resp, body = do(t, c, newReq(t, "POST", n.url("/echo"), onlyReader{bytes.NewReader(up)}))
			if resp.StatusCode != 200 || !bytes.Equal(body, up) {
				t.Fatalf("POST /echo of 40 MiB = %d with %d bytes", resp.StatusCode, len(body))
			}
			// The same echo over plain HTTP/1.1 peaks at about 4x the body too (the echo's
			// output outruns its reader): the bound here is that uwsgi adds nothing to it.
			rss := peakRSS(t, p.cmd.Process.Pid)
			t.Logf("asgo's peak RSS after echoing 40 MiB over uwsgi: %d MiB", rss>>20)
			if rss > 256<<20 {
				t.Errorf("peak RSS %d MiB after a 40 MiB echo", rss>>20)
			}

			// A streaming response reaches the client as it is written.
			const lines, delay = 4, 100 * time.Millisecond
			sresp, err := c.Do(newReq(t, "GET", n.url(fmt.Sprintf("/stream?n=%d&delay=%d", lines, delay/time.Millisecond)), nil))
			if err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(sresp.Body)
			start := time.Now()
			for i := range lines {
				line, err := br.ReadString('\n')
				if want := fmt.Sprintf("chunk %d\n", i); err != nil || line != want {
					t.Fatalf("line %d = %q %v", i, line, err)
				}
			}
			rest, _ := io.ReadAll(br)
			sresp.Body.Close()
			if len(rest) != 0 {
				t.Errorf("after the stream: %q", rest)
			}
			if d := time.Since(start); d < (lines-1)*delay*3/4 {
				t.Errorf("stream lines arrived within %v: held back", d)
			}
			if !strings.Contains(p.logs(), `msg="127.0.0.1:`) || !strings.Contains(p.logs(), `GET /wsgi/environ?a=1&b=2 HTTP/1.1\" 200`) {
				t.Errorf("no access-log line for the environ request:\n%s", p.logs())
			}
			n.assertNoUpstreamErrors(t)
		})
	}
}
