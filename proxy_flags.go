package asgo

import (
	"flag"

	"github.com/asgo-dev/asgo/apps/proxyheaders"
)

// proxyHeadersFlags defines --proxy-headers and --forwarded-allow-ips into cfg and
// returns the check to run after parsing.
func proxyHeadersFlags(fs *flag.FlagSet, cfg *ProxyHeadersConfig) func() error {
	on := fs.Bool("proxy-headers", true, "take the client address and scheme from X-Forwarded-For, X-Forwarded-Proto and Forwarded sent by --forwarded-allow-ips peers (default true)")
	allow := fs.String("forwarded-allow-ips", "", "peers whose proxy headers are believed: comma-separated `IP|CIDR`s, or * for any (default 127.0.0.1; also $FORWARDED_ALLOW_IPS)")
	return func() error {
		cfg.Disabled = !*on
		cfg.Trusted = splitList([]string{*allow})
		return proxyheaders.Validate(proxyheaders.Config{Trusted: cfg.Trusted})
	}
}
