package asgo

import (
	"fmt"

	"github.com/asgo-dev/asgo/apps/compress"
	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/mount"
	"github.com/asgo-dev/asgo/apps/proxy"
	"github.com/asgo-dev/asgo/apps/proxyheaders"
	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// wrap puts the middleware cfg configures around app, from the inside out: the static
// file mounts (in the order given) in front of app, the proxies mounted by prefix in
// front of both, compression around all of them, the IP filter, so a refused client
// reaches nothing, and the proxy headers outermost, so that everything inside sees the
// real client. Serve calls it before the lifespan starts, so the lifespan reaches app
// through the middleware.
func (cfg Config) wrap(app asgi.App) (asgi.App, error) {
	app, err := cfg.wrapStatic(app)
	if err != nil {
		return nil, err
	}
	if app, err = cfg.wrapProxies(app); err != nil {
		return nil, err
	}
	if app, err = compress.New(app, cfg.Compress); err != nil {
		return nil, err
	}
	if cfg.IPFilter.Enabled() {
		if app, err = ipfilter.New(app, cfg.IPFilter); err != nil {
			return nil, err
		}
	}
	if !cfg.ProxyHeaders.Disabled {
		if app, err = proxyheaders.New(app, proxyheaders.Config{Trusted: cfg.ProxyHeaders.Trusted}); err != nil {
			return nil, fmt.Errorf("--forwarded-allow-ips: %w", err)
		}
	}
	return app, nil
}

func (cfg Config) wrapStatic(app asgi.App) (asgi.App, error) {
	for i := len(cfg.Static) - 1; i >= 0; i-- {
		s := cfg.Static[i]
		s.Next = app
		st, err := static.New(s)
		if err != nil {
			return nil, fmt.Errorf("--static %s: %w", s.Prefix, err)
		}
		app = st
	}
	return app, nil
}

// wrapProxies mounts each --proxy prefix in front of app (mount keeps app's Inline and
// WebSocketHandler for everything else).
func (cfg Config) wrapProxies(app asgi.App) (asgi.App, error) {
	if len(cfg.Proxies) == 0 {
		return app, nil
	}
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
	return m.Add("/", app), nil
}
