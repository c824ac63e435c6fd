package grid

import (
	"slices"
	"strings"
	"testing"
)

// TestFrontConfigs renders every front server's proxy configuration and backend
// command line without starting them.
func TestFrontConfigs(t *testing.T) {
	e := &Setup{ASGO: "/bin/asgo", PythonDir: "/py"}
	want := map[string][]string{
		"nginx-asgo":        {"proxy_pass http://backend", "server 127.0.0.1:9001", "keepalive 512", "listen 127.0.0.1:9000"},
		"nginx-asgo-unix":   {"proxy_pass http://backend", "server unix:/d/asgo.sock", "keepalive 512"},
		"nginx-uwsgi-asgo":  {"uwsgi_pass unix:/d/asgo-uwsgi.sock", "include /etc/nginx/uwsgi_params"},
		"nginx-uwsgi-uwsgi": {"uwsgi_pass unix:/d/uwsgi.sock"},
		"haproxy-asgo":      {"mode tcp", "server backend 127.0.0.1:9001 send-proxy-v2", "bind 127.0.0.1:9000"},
	}
	for name, parts := range want {
		s := Servers[name]
		if s == nil || s.Kind != KindFront || s.Front == nil {
			t.Fatalf("%s: not a front server", name)
		}
		argv, _, upstream := s.Front.Backend(e, "/d", 9001, true)
		conf, proxyArgv, err := frontConfig(s.Front, "/d", 9000, upstream)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range parts {
			if !strings.Contains(string(conf), p) {
				t.Errorf("%s: configuration lacks %q:\n%s", name, p, conf)
			}
		}
		if proxyArgv[0] != s.Front.Proxy || !strings.HasPrefix(proxyArgv[len(proxyArgv)-1], "/d/") {
			t.Errorf("%s: proxy command %v", name, proxyArgv)
		}
		if strings.HasPrefix(name, "haproxy") && !slices.Contains(argv, "--proxy-protocol") {
			t.Errorf("%s: backend %v lacks --proxy-protocol", name, argv)
		}
	}
}
