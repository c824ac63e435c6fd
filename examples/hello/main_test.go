package main

import (
	"testing"

	"github.com/asgo-dev/asgo/examples/internal/exampletest"
)

func TestHello(t *testing.T) {
	srv := exampletest.Start(t, exampletest.Build(t), nil)
	for _, proto := range exampletest.HTTPVersions {
		want := map[string]string{"--http1.1": "1.1", "--http2-prior-knowledge": "2"}[proto]
		if got := exampletest.Curl(t, proto, srv.URL+"/?name=Ada"); got != "Hello, Ada! (GET / over HTTP/"+want+")\n" {
			t.Errorf("curl %s GET = %q", proto, got)
		}
		if got := exampletest.Curl(t, proto, "-d", "Grace", srv.URL+"/greet"); got != "Hello, Grace! (POST /greet over HTTP/"+want+")\n" {
			t.Errorf("curl %s POST = %q", proto, got)
		}
	}
	srv.Stop()
}
