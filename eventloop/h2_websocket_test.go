package eventloop

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestH2WebSocketPython drives WebSocket over HTTP/2 (RFC 8441) with python-hyper's
// h2 over h2c: echo and chat on streams beside a GET, ping/pong, the closing handshake,
// and refused or malformed extended CONNECTs (testdata/h2_websocket_client.py).
func TestH2WebSocketPython(t *testing.T) {
	if err := exec.Command(python, "-c", "import h2.connection").Run(); err != nil {
		t.Fatal("python3-h2 is required (make deps installs it)")
	}
	ts, _ := startWSServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "testdata/h2_websocket_client.py", "127.0.0.1", port(ts.addr)).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "OK ") {
		t.Fatalf("python h2 WebSocket client: %v\n%s\nserver log:\n%s", err, out, ts.logs.String())
	}
	t.Log(strings.TrimSpace(string(out)))
}
