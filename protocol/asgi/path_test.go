package asgi

import "testing"

func TestDecodePath(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"empty", "", ""},
		{"plain", "/a/b", "/a/b"},
		{"escapes", "/caf%C3%A9/%2f%20x", "/café// x"},
		{"lower and upper hex", "%4a%4A", "JJ"},
		{"invalid escape kept", "/%zz/%4", "/%zz/%4"},
		{"percent at end", "/a%", "/a%"},
		{"escape at end", "/a%41", "/aA"},
		{"one digit then end", "%4", "%4"},
		{"encoded percent not decoded twice", "%2541", "%41"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodePath(tt.raw); got != tt.want {
				t.Errorf("DecodePath(string %q) = %q, want %q", tt.raw, got, tt.want)
			}
			if got := string(AppendDecodedPath([]byte("x"), []byte(tt.raw))); got != "x"+tt.want {
				t.Errorf("AppendDecodedPath(%q) = %q, want x%q", tt.raw, got, tt.want)
			}
			if got := DecodePath([]byte(tt.raw)); got != tt.want {
				t.Errorf("DecodePath([]byte %q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestDecodePathAllocs(t *testing.T) {
	plain := "/static/app.js"
	if n := testing.AllocsPerRun(100, func() { _ = DecodePath(plain) }); n != 0 {
		t.Errorf("string without escapes: %v allocations, want 0", n)
	}
	raw := []byte(plain)
	if n := testing.AllocsPerRun(100, func() { _ = DecodePath(raw) }); n != 1 {
		t.Errorf("[]byte without escapes: %v allocations, want 1 (the string)", n)
	}
}
