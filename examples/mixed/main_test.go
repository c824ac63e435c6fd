package main

import (
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/examples/internal/exampletest"
)

func TestMixed(t *testing.T) {
	srv := exampletest.Start(t, exampletest.Build(t), nil, "--wsgi-workers", "2")
	for _, proto := range exampletest.HTTPVersions {
		version := map[string]string{"--http1.1": "HTTP/1.1", "--http2-prior-knowledge": "HTTP/2.0"}[proto]
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{srv.URL + "/"}, "async: try /stream, /wsgi/hello and /go/hello\n"},
			{[]string{srv.URL + "/wsgi/hello"}, "wsgi: SCRIPT_NAME=/wsgi PATH_INFO=/hello\n"},
			{[]string{"--data-binary", "some body", srv.URL + "/wsgi/echo"}, "wsgi read 9 bytes: some body\n"},
			{[]string{srv.URL + "/go/hello?x=1"}, "net/http: /hello (request URI /go/hello?x=1, " + version + ")\n"},
			{[]string{srv.URL + "/stream?n=3&delay=10ms"}, "line 1 of 3\nline 2 of 3\nline 3 of 3\n"},
			{[]string{"-o", "/dev/null", "-w", "%{http_code}", srv.URL + "/nowhere"}, "404"},
			{[]string{"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", srv.URL + "/stream"}, "405"},
		} {
			if got := exampletest.Curl(t, append([]string{proto}, c.args...)...); got != c.want {
				t.Errorf("curl %s %s = %q, want %q", proto, strings.Join(c.args, " "), got, c.want)
			}
		}
	}
	// The stream arrives as it is produced: chunked over HTTP/1.1.
	if got := exampletest.Curl(t, "--http1.1", "-i", srv.URL+"/stream?n=2&delay=10ms"); !strings.Contains(strings.ToLower(got), "transfer-encoding: chunked") {
		t.Errorf("/stream over HTTP/1.1 is not chunked:\n%s", got)
	}
	srv.Stop()
}
