package mount

import (
	"strings"
	"testing"
)

// FuzzRoutePath checks the path rule: RootPath + RoutePath gives back the path whenever
// the root was stripped, the stripped route path starts at a segment boundary, and
// matchPrefix agrees with a segment-wise comparison.
func FuzzRoutePath(f *testing.F) {
	for _, s := range [][2]string{{"", "/"}, {"/a", "/a/b"}, {"/a", "/ab"}, {"/a", "/a"}, {"/a/", "/a/"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, root, path string) {
		rp := RoutePath(root, path)
		if rp != path {
			if root+rp != path {
				t.Fatalf("RoutePath(%q, %q) = %q does not rebuild the path", root, path, rp)
			}
			if rp != "" && rp[0] != '/' {
				t.Fatalf("RoutePath(%q, %q) = %q cuts inside a segment", root, path, rp)
			}
		}
		if !strings.HasPrefix(root, "/") || strings.HasSuffix(root, "/") {
			return
		}
		want := path == root || strings.HasPrefix(path, root+"/")
		if got := matchPrefix(root, path); got != want {
			t.Fatalf("matchPrefix(%q, %q) = %v, want %v", root, path, got, want)
		}
	})
}
