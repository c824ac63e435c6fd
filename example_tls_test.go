package asgo_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/asgo-dev/asgo"
	"github.com/asgo-dev/asgo/eventloop"
	"github.com/asgo-dev/asgo/protocol/asgi"
	"github.com/asgo-dev/asgo/tlsconf"
)

// Serve TLS on :8443 (HTTP/2 and HTTP/1.1 by ALPN) beside a cleartext health port,
// verifying client certificates when sent, and reload the certificate on SIGHUP (it is
// also reloaded when its files change).
func ExampleServe_tls() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default: // one is pending already
			}
		}
	}()
	err := asgo.Serve(ctx, asgi.AppFunc(hello), asgo.Config{
		Server: eventloop.Config{
			Binds:    []string{"127.0.0.1:8080"}, // cleartext
			TLSBinds: []string{":8443"},
		},
		TLS: tlsconf.Config{
			CertFile: "/etc/myapp/fullchain.pem",
			KeyFile:  "/etc/myapp/privkey.pem",
			CACerts:  "/etc/myapp/clients-ca.pem",
			CertReqs: tlsconf.CertOptional,
		},
		Reload: reload, // the access log, the certificate, every ReloadHook
	})
	if err != nil {
		os.Exit(1)
	}
}
