package asgo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/apps/ipfilter"
)

// TestProxyHeadersBeforeIPFilter: the proxy-header middleware is outermost, so the IP
// filter judges the client named by a trusted peer's X-Forwarded-For.
func TestProxyHeadersBeforeIPFilter(t *testing.T) {
	deny := ipfilter.Config{Deny: []string{"203.0.113.7"}}
	tests := []struct {
		name   string
		proxy  asgo.ProxyHeadersConfig
		xff    string
		status int
	}{
		{"trusted peer names a denied client", asgo.ProxyHeadersConfig{}, "203.0.113.7", 403},
		{"trusted peer names another client", asgo.ProxyHeadersConfig{}, "198.51.100.1", 200},
		{"hops: the right-most untrusted counts", asgo.ProxyHeadersConfig{}, "203.0.113.7, 198.51.100.1", 200},
		{"untrusted peer", asgo.ProxyHeadersConfig{Trusted: []string{"10.0.0.1"}}, "203.0.113.7", 200},
		{"middleware off", asgo.ProxyHeadersConfig{Disabled: true}, "203.0.113.7", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveMiddleware(t, asgo.Config{IPFilter: deny, ProxyHeaders: tt.proxy})
			for _, h2 := range []bool{false, true} {
				if r := curl(t, h2, "http://"+addr+"/", "-H", "X-Forwarded-For: "+tt.xff); r.status != tt.status {
					t.Errorf("h2 %v: %d, want %d", h2, r.status, tt.status)
				}
			}
		})
	}
}

func TestServeRefusesBadForwardedAllowIPs(t *testing.T) {
	cfg := asgo.Config{ProxyHeaders: asgo.ProxyHeadersConfig{Trusted: []string{"proxy.example"}}}
	cfg.Server.Binds = []string{"127.0.0.1:0"}
	cfg.Server.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := asgo.Serve(context.Background(), userApp, cfg); err == nil {
		t.Fatal("Serve returned nil")
	}
}
