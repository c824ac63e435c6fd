package eventloop

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const python = "/usr/bin/python3"

// TestWebSocketPythonClient runs Python's websockets package (Debian
// python3-websockets, installed by `make deps`) against the real server, with and
// without permessage-deflate.
func TestWebSocketPythonClient(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Skip("no /usr/bin/python3; run `make deps`")
	}
	if err := exec.Command(python, "-c", "import websockets").Run(); err != nil {
		t.Skip("python3-websockets is not installed; run `make deps`")
	}
	ts, _ := startWSServer(t, Config{})
	for _, mode := range []string{"none", "deflate"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, python, "testdata/websocket_client.py", "ws://"+ts.addr, mode).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "OK ") {
				t.Fatalf("python client: %v\n%s", err, out)
			}
			t.Log(strings.TrimSpace(string(out)))
		})
	}
}
