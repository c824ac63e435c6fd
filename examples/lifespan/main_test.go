package main

import (
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/asgo-dev/asgo/examples/internal/exampletest"
)

func TestLifespanStateAndShutdown(t *testing.T) {
	bin := exampletest.Build(t)
	srv := exampletest.Start(t, bin, nil, "--lifespan", "on")
	srv.WaitLog(regexp.MustCompile(`msg="pool opened" size=4`))
	for _, proto := range exampletest.HTTPVersions {
		if got := exampletest.Curl(t, proto, srv.URL+"/"); !strings.HasPrefix(got, "served by connection ") {
			t.Errorf("curl %s = %q", proto, got)
		}
	}
	srv.Stop()
	// The shutdown ran after the drain, with every query counted.
	srv.WaitLog(regexp.MustCompile(`msg="pool closed" queries=2`))

	t.Run("startup failure", func(t *testing.T) {
		srv := exampletest.StartNoWait(t, bin, []string{"POOL_FAIL=1"}, "--lifespan", "on")
		srv.WaitLog(regexp.MustCompile(`cannot reach the database`))
		var exit *exec.ExitError
		if err := srv.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 3 {
			t.Fatalf("exit: %v, want status 3", err)
		}
	})
}
