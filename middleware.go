package asgo

import (
	"fmt"

	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/apps/proxy"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// wrap puts the middleware cfg asks for around app, outermost last: the proxies
// mounted by prefix in front of the app, then compression around both.
func (cfg Config) wrap(app asgi.App) (asgi.App, error) {
	// Proxies: each --proxy prefix is mounted in front of the app (mount keeps the
	// app's Inline and WebSocketHandler for everything else).
	if len(cfg.Proxies) > 0 {
		m := mount.New()
		seen := map[string]bool{}
		for _, r := range cfg.Proxies {
			if _, err := proxy.ParseRoute(r.String()); err != nil {
				return nil, err
			}
			if seen[r.Prefix] {
				return nil, fmt.Errorf("--proxy %s: prefix mounted twice", r.Prefix)
			}
			seen[r.Prefix] = true
			pc := cfg.Proxy
			pc.Upstreams = r.Upstreams
			p, err := proxy.New(pc)
			if err != nil {
				return nil, fmt.Errorf("--proxy %s: %w", r, err)
			}
			m.Add(r.Prefix, p)
		}
		app = m.Add("/", app)
	}
	// Compression, outermost.
	return compress.New(app, cfg.Compress)
}
