package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Snippet markers: the line before a fenced block in a Markdown file.
const (
	// markRun: the block is run. A sh block runs under bash -e with
	// wse-server and wse-cli on PATH and WSE_PORT, WSE_API_ADDR set to
	// free ports; it must exit 0. A go block is a complete program, run
	// with "Port: 5007" replaced by a free port; it must listen there, then
	// exit 0 on SIGINT.
	markRun = "<!-- snippet: run -->"
	// markBuild: a go block that needs a live backend is only built.
	markBuild = "<!-- snippet: build -->"
)

// snippetTimeout bounds each snippet's build and run.
const snippetTimeout = 2 * time.Minute

// snippet is a marked fenced block.
type snippet struct {
	where string // file:line
	mode  string // markRun or markBuild
	lang  string
	code  string
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// markedSnippets reads every marked block of the repository's Markdown
// files (node_modules and dot directories aside).
func markedSnippets(t *testing.T, root string) []snippet {
	t.Helper()
	var out []snippet
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(data), "\n")
		rel, _ := filepath.Rel(root, path)
		for i := 0; i+1 < len(lines); i++ {
			mode := strings.TrimSpace(lines[i])
			if mode != markRun && mode != markBuild {
				continue
			}
			lang, ok := strings.CutPrefix(lines[i+1], "```")
			if !ok {
				t.Errorf("%s:%d: %s is not followed by a fenced block", rel, i+1, mode)
				continue
			}
			end := i + 2
			for end < len(lines) && lines[end] != "```" {
				end++
			}
			out = append(out, snippet{where: fmt.Sprintf("%s:%d", rel, i+3), mode: mode, lang: lang,
				code: strings.Join(lines[i+2:end], "\n") + "\n"})
			i = end
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDocSnippetsRun(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	snippets := markedSnippets(t, root)
	langs := map[string]int{}
	for _, s := range snippets {
		langs[s.mode+" "+s.lang]++
	}
	// The README's Go program, docs/cli.md's walkthrough and the Go
	// client's example at least: a lost marker fails here.
	if langs[markRun+" go"] < 1 || langs[markRun+" sh"] < 1 || langs[markBuild+" go"] < 1 {
		t.Fatalf("marked snippets %v: want a run go, a run sh and a build go block at least", langs)
	}
	bin := t.TempDir()
	if err := os.Symlink(binary, filepath.Join(bin, "wse-server")); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "wse-cli"), "../wse-cli")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build wse-cli: %v\n%s", err, out)
	}
	for _, s := range snippets {
		t.Run(s.where, func(t *testing.T) {
			t.Parallel()
			switch s.lang {
			case "go":
				runGoSnippet(t, root, s)
			case "sh", "bash":
				if s.mode != markRun {
					t.Fatalf("%s: shell blocks can only be run", s.where)
				}
				runShellSnippet(t, bin, s)
			default:
				t.Fatalf("%s: no runner for %q blocks", s.where, s.lang)
			}
		})
	}
}

// runShellSnippet runs a sh block in its own process group, killed at the
// end so that nothing it started in the background outlives it.
func runShellSnippet(t *testing.T, bin string, s snippet) {
	dir := t.TempDir()
	script := filepath.Join(dir, "snippet.sh")
	if err := os.WriteFile(script, []byte(s.code), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), snippetTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", script)
	cmd.Dir = dir
	cmd.Env = baseEnv("PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		fmt.Sprintf("WSE_PORT=%d", freePort(t)), fmt.Sprintf("WSE_API_ADDR=127.0.0.1:%d", freePort(t)))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if err != nil {
		t.Fatalf("%s: %v\n%s", s.where, err, out)
	}
}

// runGoSnippet builds a go block as a program of a module that replaces
// github.com/wse-go/wse with this checkout; a run block is then run.
func runGoSnippet(t *testing.T, root string, s snippet) {
	dir := t.TempDir()
	port := freePort(t)
	code := s.code
	if s.mode == markRun {
		if !strings.Contains(code, "Port: 5007") {
			t.Fatalf("%s: a run go block listens on Port: 5007 (replaced by a free port here)", s.where)
		}
		code = strings.ReplaceAll(code, "Port: 5007", fmt.Sprintf("Port: %d", port))
	}
	gomod := "module snippet\n\ngo 1.26.0\n\nrequire github.com/wse-go/wse v0.0.0\n\nreplace github.com/wse-go/wse => " + root + "\n"
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(code)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), snippetTimeout)
	defer cancel()
	prog := filepath.Join(dir, "snippet")
	build := exec.CommandContext(ctx, "go", "build", "-mod=mod", "-o", prog, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s does not build: %v\n%s", s.where, err, out)
	}
	if s.mode == markBuild {
		return
	}
	cmd := exec.CommandContext(ctx, prog)
	cmd.Env = baseEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(snippetTimeout / 2)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-logged
			t.Fatalf("%s never listened on %s: %v\n%s", s.where, addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-logged
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s did not exit cleanly on SIGINT: %v\n%s", s.where, err, logs.String())
	}
}
