package eventloop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/asgo-dev/asgo/internal/testutil"
)

const chromium = "/usr/bin/chromium"

// TestWebSocketChromiumChatPage loads /chat.html?selftest in headless Chromium (Debian
// chromium, installed by `make deps`): the page opens two WebSockets to the chat room,
// exchanges messages through it and writes its verdict into #status. The test reads
// the verdict back from the page over the DevTools protocol, polling in real time
// (--dump-dom with a virtual time budget races the real network on a loaded machine).
func TestWebSocketChromiumChatPage(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatal("chromium is required; `make deps` installs it")
	}
	ts, _ := startWSServer(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	devtools := startChromium(ctx, t)
	page := openPage(ctx, t, devtools)
	defer page.Close()
	status := page.waitStatus(t, "http://"+ts.addr+"/chat.html?selftest")
	if !strings.HasPrefix(status, "selftest: ok ") {
		t.Fatalf("page status %q", status)
	}
	t.Logf("page status: %s", status)
}

// startChromium runs headless Chromium (with extra flags) with a DevTools endpoint and
// returns its address; the browser's whole process group is killed when the test ends.
func startChromium(ctx context.Context, t *testing.T, extra ...string) string {
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(), "--remote-debugging-port=0"}, extra...)
	cmd := exec.Command(chromium, append(args, "about:blank")...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "DevTools listening on ws://"); ok {
				found <- strings.SplitN(u, "/", 2)[0]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case addr := <-found:
		return addr
	case <-ctx.Done():
		t.Fatal("chromium did not start its DevTools endpoint")
	}
	return ""
}

// cdpPage is a DevTools protocol session with one page.
type cdpPage struct {
	net.Conn
	r  io.Reader
	id int
}

func openPage(ctx context.Context, t *testing.T, devtools string) *cdpPage {
	var targets []struct{ Type, WebSocketDebuggerURL string }
	testutil.WaitFor(t, 30*time.Second, "a page target in DevTools", func() bool {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + devtools + "/json/list")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		targets = pages(targets)
		return len(targets) > 0
	})
	conn, br, _, err := ws.Dial(ctx, targets[0].WebSocketDebuggerURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &cdpPage{Conn: conn, r: conn}
	if br != nil {
		p.r = io.MultiReader(br, conn)
	}
	return p
}

func pages(ts []struct{ Type, WebSocketDebuggerURL string }) []struct{ Type, WebSocketDebuggerURL string } {
	var out []struct{ Type, WebSocketDebuggerURL string }
	for _, x := range ts {
		if x.Type == "page" {
			out = append(out, x)
		}
	}
	return out
}

// call sends one DevTools command and returns its result.
func (p *cdpPage) call(method string, params any) (json.RawMessage, error) {
	p.id++
	req, _ := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	if err := wsutil.WriteClientText(p.Conn, req); err != nil {
		return nil, err
	}
	_ = p.SetReadDeadline(time.Now().Add(30 * time.Second))
	rw := struct {
		io.Reader
		io.Writer
	}{p.r, p.Conn}
	for {
		msg, err := wsutil.ReadServerText(rw)
		if err != nil {
			return nil, err
		}
		var resp struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if json.Unmarshal(msg, &resp) != nil || resp.ID != p.id {
			continue // an event
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		return resp.Result, nil
	}
}

// eval returns the string value of a JavaScript expression in the page.
func (p *cdpPage) eval(t *testing.T, expr string) string {
	res, err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Result struct{ Value string } }
	_ = json.Unmarshal(res, &v)
	return v.Result.Value
}

// waitStatus navigates to url and polls the page's #status until the selftest ends.
func (p *cdpPage) waitStatus(t *testing.T, url string) string {
	if _, err := p.call("Page.navigate", map[string]string{"url": url}); err != nil {
		t.Fatal(err)
	}
	expr := `(document.getElementById("status") || {}).textContent || ""`
	status := ""
	defer func() {
		if t.Failed() {
			t.Logf("page status: %q", status)
		}
	}()
	testutil.WaitFor(t, 60*time.Second, "the page's selftest to end", func() bool {
		res, err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Result struct{ Value string } }
		_ = json.Unmarshal(res, &v)
		status = v.Result.Value
		return strings.HasPrefix(status, "selftest: ok") || strings.HasPrefix(status, "selftest: failed")
	})
	return status
}
