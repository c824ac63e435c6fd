package eventloop

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

const chromium = "/usr/bin/chromium"

// TestWebSocketChromiumChatPage loads /chat.html?selftest in headless Chromium (Debian
// chromium, installed by `make deps`): the page opens two WebSockets to the chat room,
// exchanges messages through it and writes its verdict into #status, which
// --dump-dom reads back.
func TestWebSocketChromiumChatPage(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no chromium; run `make deps`")
	}
	ts, _ := startWSServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000",
		"--dump-dom", "http://"+ts.addr+"/chat.html?selftest")
	out, err := cmd.Output()
	status := regexp.MustCompile(`<div id="status">([^<]*)</div>`).FindSubmatch(out)
	if err != nil || status == nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if got := string(status[1]); !regexp.MustCompile(`^selftest: ok `).MatchString(got) {
		t.Fatalf("page status %q\nserver log:\n%s", got, ts.logs.String())
	}
	t.Logf("page status: %s", status[1])
}
