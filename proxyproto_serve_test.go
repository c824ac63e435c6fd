package asgo_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/apps/scopedump"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// TestServeProxyProtocolTrustsForwardedAllowIPs checks that Serve admits PROXY headers
// from the proxy-header trusted set, and that the proxy headers then apply to the
// client the PROXY header named.
func TestServeProxyProtocolTrustsForwardedAllowIPs(t *testing.T) {
	exchange := func(addr, head string) string {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "PROXY TCP4 192.0.2.7 192.0.2.1 4711 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+head+"\r\n")
		b, _ := io.ReadAll(c)
		return string(b)
	}
	app := asgi.App(scopedump.App)
	for _, tc := range []struct {
		trusted    []string
		head, want string // want: the client in the dump, "" for a closed connection
	}{
		{nil, "", `"client":["192.0.2.7",4711]`},
		{[]string{"10.0.0.0/8"}, "", ""},
		// The PROXY header names 192.0.2.7, which is trusted: its X-Forwarded-For counts.
		{[]string{"127.0.0.1", "192.0.2.0/24"}, "X-Forwarded-For: 203.0.113.9\r\n", `"client":["203.0.113.9",0]`},
		// Not trusted: the forged header changes nothing.
		{nil, "X-Forwarded-For: 203.0.113.9\r\n", `"client":["192.0.2.7",4711]`},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var cfg asgo.Config
		cfg.Server.ProxyProtocol = true
		cfg.ProxyHeaders.Trusted = tc.trusted
		s := serve(t, ctx, app, cfg)
		got := exchange(s.addr, tc.head)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("trusted %v, %q: got %q, want %s", tc.trusted, tc.head, got, tc.want)
		}
		cancel()
		if err := s.wait(t); err != nil {
			t.Fatal(err)
		}
	}
}
