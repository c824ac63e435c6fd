package exampletest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestExamplesUseOnlyThePublicSurface fails when an example imports an internal
// package of the module (other than this helper, in its tests).
func TestExamplesUseOnlyThePublicSurface(t *testing.T) {
	const module = "github.com/asgo-dev/asgo"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}}`, module+"/examples/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		if strings.HasPrefix(pkg, module+"/examples/internal/") {
			continue
		}
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, module) && strings.Contains(imp+"/", "/internal/") && !strings.HasPrefix(imp, module+"/examples/internal/") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}
