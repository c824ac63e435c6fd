package uwsgi

import (
	"testing"
)

// FuzzParse checks that any input parses without panicking, identically whole, byte by
// byte and in random chunks, that every consumed count is in range, and that a scope
// can be built from every packet that parsed.
func FuzzParse(f *testing.F) {
	f.Add(nginxPacket())
	f.Add(packet(0, 0, "", "REQUEST_METHOD", "GET", "PATH_INFO", "/"))
	f.Add(append(nginxPacket(), packet(0, 0, "", "REQUEST_METHOD", "GET", "REQUEST_URI", "/a?b")...))
	f.Add(packet(0, 0, "xyz", "REQUEST_METHOD", "PUT", "REQUEST_URI", "http://h/p?q", "CONTENT_LENGTH", "3", "HTTPS", "on"))
	f.Add([]byte{0, 3, 0, 0, 9, 0, 'A'})
	f.Add([]byte{5, 0, 0, 0})
	f.Add([]byte{0, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<17 {
			return
		}
		cfg := Config{MaxVars: 50, MaxBodyBytes: 1 << 16}
		feedAll(t, cfg, in)
		var p Parser
		p.Init(cfg)
		data := in
		for i := 0; i < 100; i++ {
			n, ev, err := p.Parse(data)
			if err != nil || (ev == EventNone && n == 0) {
				return
			}
			if ev == EventHead {
				s := p.Request().HTTPScope(ScopeDefaults{RootPath: "/r"})
				if s.Method == "" || (s.Path != "" && s.RootPath != "" && !underRoot(s.Path, s.RootPath)) {
					t.Fatalf("scope %+v", s)
				}
			}
			data = data[n:]
		}
	})
}
