package asgo

import (
	"fmt"

	"github.com/asgo-dev/asgo/apps/ipfilter"
	"github.com/asgo-dev/asgo/apps/proxyheaders"
	"github.com/asgo-dev/asgo/apps/static"
	"github.com/asgo-dev/asgo/protocol/asgi"
)

// wrap puts the middleware cfg configures around app, outermost first: the proxy
// headers (so that everything inside sees the real client), the IP filter, then the
// static file mounts (in the order given) in front of app. Serve calls it
// before the lifespan starts, so the lifespan reaches app through the middleware.
func (cfg Config) wrap(app asgi.App) (asgi.App, error) {
	for i := len(cfg.Static) - 1; i >= 0; i-- {
		s := cfg.Static[i]
		s.Next = app
		st, err := static.New(s)
		if err != nil {
			return nil, fmt.Errorf("--static %s: %w", s.Prefix, err)
		}
		app = st
	}
	if cfg.IPFilter.Enabled() {
		f, err := ipfilter.New(app, cfg.IPFilter)
		if err != nil {
			return nil, err
		}
		app = f
	}
	if !cfg.ProxyHeaders.Disabled {
		p, err := proxyheaders.New(app, proxyheaders.Config{Trusted: cfg.ProxyHeaders.Trusted})
		if err != nil {
			return nil, fmt.Errorf("--forwarded-allow-ips: %w", err)
		}
		app = p
	}
	return app, nil
}
