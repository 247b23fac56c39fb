package wse_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyDirection keeps the layering of docs/ARCHITECTURE.md: leaves
// never import the engine, the engine never imports the server side, and
// the Go client never imports the engine.
func TestDependencyDirection(t *testing.T) {
	t.Parallel()
	const root = "github.com/wse-go/wse"
	forbidden := map[string][]string{
		root + "/protocol":        {root},
		root + "/auth":            {root},
		root + "/cluster":         {root},
		root + "/internal/wsconn": {root},
		root + "/internal/ring":   {root},
		root + "/internal/topic":  {root},
		root + "/clients/go":      {root, root + "/internal/wsconn"},
		root:                      {root + "/server", root + "/monitor", root + "/clients/go", root + "/cmd/wse-server"},
	}
	for pkg, banned := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, dep := range deps {
			for _, b := range banned {
				if dep == b && dep != pkg {
					t.Errorf("%s imports %s", pkg, b)
				}
			}
		}
	}
}
