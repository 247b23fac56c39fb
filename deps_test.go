package wse_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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
		root + "/protocol":          {root},
		root + "/auth":              {root},
		root + "/cluster":           {root},
		root + "/internal/wsconn":   {root},
		root + "/internal/ring":     {root},
		root + "/internal/topic":    {root},
		root + "/clients/go":        {root, root + "/internal/wsconn"},
		root + "/clients/go/wsecli": {root, root + "/internal/wsconn", root + "/server"},
		root:                        {root + "/server", root + "/monitor", root + "/clients/go", root + "/cmd/wse-server", root + "/hooks"},
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

// TestOnlyCommandsExit checks that no library package calls os.Exit.
func TestOnlyCommandsExit(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Commands (cmd/), benchmark programs (any bench/) and npm's
		// node_modules are not library code.
		if d.IsDir() && (path == "cmd" || d.Name() == "bench" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "os.Exit(") {
			t.Errorf("%s calls os.Exit; only cmd/* may", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
