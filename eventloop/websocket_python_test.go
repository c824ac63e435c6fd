package eventloop

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo/protocol/websocket"
)

const python = "/usr/bin/python3"

// TestWebSocketPythonClient runs Python's websockets package (Debian
// python3-websockets, installed by `make deps`) against the real server, with and
// without permessage-deflate, over ws:// and wss://.
func TestWebSocketPythonClient(t *testing.T) {
	if _, err := os.Stat(python); err != nil {
		t.Fatal("/usr/bin/python3 is required; `make deps` installs it")
	}
	if err := exec.Command(python, "-c", "import websockets").Run(); err != nil {
		t.Fatal("python3-websockets is required; `make deps` installs it")
	}
	ts, _ := startWSServer(t, Config{})
	// With ClientContextTakeover the client keeps its LZ77 window across messages and
	// the server inflates with the connection's history.
	takeover, _ := startWSServer(t, Config{WebSocket: websocket.Config{ClientContextTakeover: true}})
	secure := startTLSServer(t, Config{}, newWSTestApp())
	for _, tc := range []struct{ name, mode, url, ext string }{
		{"none", "none", "ws://" + ts.addr, "''"},
		{"deflate", "deflate", "ws://" + ts.addr, "'permessage-deflate; server_no_context_takeover; client_no_context_takeover'"},
		{"deflate-client-context-takeover", "deflate", "ws://" + takeover.addr, "'permessage-deflate; server_no_context_takeover'"},
		{"wss-none", "none", "wss://localhost:" + port(secure.addr), "''"},
		{"wss-deflate", "deflate", "wss://localhost:" + port(secure.addr), "'permessage-deflate; server_no_context_takeover; client_no_context_takeover'"},
	} {
		mode := tc.mode
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, python, "testdata/websocket_client.py", tc.url, mode, secure.certs.caFile).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), "OK ") {
				t.Fatalf("python client: %v\n%s", err, out)
			}
			if !strings.HasSuffix(strings.TrimSpace(string(out)), "extensions: "+tc.ext) {
				t.Fatalf("negotiated extension differs, want %s:\n%s", tc.ext, out)
			}
			t.Log(strings.TrimSpace(string(out)))
		})
	}
}
