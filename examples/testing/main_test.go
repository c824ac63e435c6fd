package main

import (
	"testing"

	"github.com/asgo-dev/asgo/examples/internal/exampletest"
)

// TestServed checks the program serves the same app over a real socket.
func TestServed(t *testing.T) {
	srv := exampletest.Start(t, exampletest.Build(t), nil)
	for _, proto := range exampletest.HTTPVersions {
		if got := exampletest.Curl(t, proto, "-X", "PUT", "--data-binary", "v"+proto, "-w", "%{http_code}", srv.URL+"/kv/k"); got != "204" {
			t.Errorf("curl %s PUT = %q", proto, got)
		}
		if got := exampletest.Curl(t, proto, srv.URL+"/kv/k"); got != "v"+proto {
			t.Errorf("curl %s GET = %q", proto, got)
		}
	}
	srv.Stop()
}
