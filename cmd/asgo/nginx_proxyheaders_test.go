package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
)

// These tests check --proxy-headers behind a real nginx: the client connects to nginx
// from 127.0.0.2, so its address differs from nginx's own (127.0.0.1, the default
// --forwarded-allow-ips) and the app's scope shows which one it got.

const ngxClientIP = "127.0.0.2"

// clientFrom returns an HTTP client whose connections come from the local address ip.
func clientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: ngxTimeout}
}

// scopeSeen is the part of /scope's JSON these tests look at.
type scopeSeen struct {
	Scheme  string      `json:"scheme"`
	Client  []any       `json:"client"`
	Headers [][2]string `json:"headers"`
}

func getScope(t *testing.T, c *http.Client, url string, headers ...string) scopeSeen {
	t.Helper()
	req := newReq(t, "GET", url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, body := do(t, c, req)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %q", url, resp.StatusCode, body)
	}
	var s scopeSeen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("scope JSON: %v\n%s", err, body)
	}
	return s
}

func (s scopeSeen) clientHost() string {
	if len(s.Client) != 2 {
		return "<none>"
	}
	h, _ := s.Client[0].(string)
	return h
}

func TestNginxProxyHeadersGiveTheRealClient(t *testing.T) {
	p, n, _ := ngxSetup(t)
	c := clientFrom(t, ngxClientIP)

	s := getScope(t, c, n.url("/scope"))
	if s.clientHost() != ngxClientIP || s.Scheme != "http" {
		t.Errorf("through nginx: client %v scheme %s, want %s http", s.Client, s.Scheme, ngxClientIP)
	}
	if port, _ := s.Client[1].(float64); port != 0 {
		t.Errorf("client port %v, want 0 (X-Forwarded-For carries none)", s.Client[1])
	}

	// nginx as a TLS terminator: X-Forwarded-Proto https.
	if s = getScope(t, c, n.url("/as-https/scope")); s.clientHost() != ngxClientIP || s.Scheme != "https" {
		t.Errorf("through nginx as https: client %v scheme %s, want %s https", s.Client, s.Scheme, ngxClientIP)
	}

	// A client's own X-Forwarded-For is to the left of the address nginx appends: the
	// right-most untrusted address, the real client, still wins.
	if s = getScope(t, c, n.url("/scope"), "X-Forwarded-For", "203.0.113.7"); s.clientHost() != ngxClientIP {
		t.Errorf("spoofed X-Forwarded-For through nginx: client %v, want %s", s.Client, ngxClientIP)
	}

	// Straight to asgo from an untrusted address, the headers change nothing.
	s = getScope(t, c, "http://"+p.addr+"/scope", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https",
		"Forwarded", "for=203.0.113.8;proto=https")
	if s.clientHost() != ngxClientIP || s.Scheme != "http" {
		t.Errorf("direct from an untrusted peer: client %v scheme %s, want %s http", s.Client, s.Scheme, ngxClientIP)
	}
	n.assertNoUpstreamErrors(t)
}

func TestNginxProxyHeadersOff(t *testing.T) {
	_, n, _ := ngxSetup(t, "--proxy-headers=false")
	s := getScope(t, clientFrom(t, ngxClientIP), n.url("/as-https/scope"))
	if s.clientHost() != "127.0.0.1" || s.Scheme != "http" {
		t.Errorf("--proxy-headers=false: client %v scheme %s, want nginx's 127.0.0.1 and http", s.Client, s.Scheme)
	}
}

func TestNginxForwardedAllowIPsFromEnvironment(t *testing.T) {
	// Trusting only an address nginx does not use: nginx's headers change nothing.
	t.Setenv("FORWARDED_ALLOW_IPS", "10.9.9.9")
	_, n, _ := ngxSetup(t)
	s := getScope(t, clientFrom(t, ngxClientIP), n.url("/as-https/scope"))
	if s.clientHost() != "127.0.0.1" || s.Scheme != "http" {
		t.Errorf("FORWARDED_ALLOW_IPS=10.9.9.9: client %v scheme %s, want nginx's 127.0.0.1 and http", s.Client, s.Scheme)
	}
}
