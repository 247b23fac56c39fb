package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestBinaryVersionFlagAndCommand(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runToExit(t, []string{"--version"})
	if code != 0 || !strings.HasPrefix(stdout, "wse-server ") || !strings.Contains(stdout, "go1.") {
		t.Fatalf("--version: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runToExit(t, []string{"version"})
	for _, want := range []string{"wse-server ", "\ncommit ", "\ngo ", "\nplatform "} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Fatalf("version: exit %d, %q lacks %q", code, stdout, want)
		}
	}
}

func TestBinaryRefusesMisspelledNamesWithASuggestion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"env", nil, []string{"WSE_PRESENSE=true"}, "wse-server: invalid config: unknown environment variable WSE_PRESENSE (did you mean WSE_PRESENCE?)"},
		{"flag", []string{"--presense"}, nil, "wse-server: invalid config: unknown flag --presense (did you mean --presence?)"},
		{"command", []string{"versoin"}, nil, `wse-server: unknown command "versoin" (did you mean "version"?)`},
		{"range names the source", []string{"--port", "70000"}, nil, `wse-server: invalid config: --port: "70000": must be between 0 and 65535 (from flag --port)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runToExit(t, tc.args, tc.env...)
			if code != 2 || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want 2 and one line starting %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "server: server") || strings.Contains(stderr, "wse-server: server:") {
				t.Fatalf("stderr %q stutters", stderr)
			}
		})
	}
}

func TestBinaryGenconfigOutputPassesCheckconfig(t *testing.T) {
	t.Parallel()
	code, yaml, stderr := runToExit(t, []string{"genconfig"})
	if code != 0 || !strings.Contains(yaml, "\nport: 5007\n") {
		t.Fatalf("genconfig: exit %d, stderr %q", code, stderr)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "wse.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("port: 5007\nping-interval: 45s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runToExit(t, []string{"checkconfig", good}); code != 0 || !strings.Contains(stdout, "valid") {
		t.Fatalf("checkconfig of genconfig's output: exit %d, %q %q", code, stdout, stderr)
	}
	code, _, stderr = runToExit(t, []string{"checkconfig", bad})
	if code != 2 || !strings.Contains(stderr, "--ping-interval") || !strings.Contains(stderr, "line 2") {
		t.Fatalf("checkconfig of a bad file: exit %d, %q", code, stderr)
	}
	// The generated file runs a server.
	p := start(t, append([]string{"--config", good}, freePorts...))
	if h := health(t, p); h["connections"] != float64(0) {
		t.Fatalf("health %v", h)
	}
}

// TestBinaryWalkthroughWithGentokenAndClient is the README's walkthrough:
// a server with a secret from the environment, a token from gentoken, a
// client tailing a topic and a publish through the control API.
func TestBinaryWalkthroughWithGentokenAndClient(t *testing.T) {
	t.Parallel()
	secret := "WSE_JWT_SECRET=" + strings.Repeat("k", 64)
	p := start(t, append([]string{"--client-topics", "chat:*"}, freePorts...), secret)
	code, token, stderr := runToExit(t, []string{"gentoken", "--user", "alice", "--ttl", "1h"}, secret)
	token = strings.TrimSpace(token)
	if code != 0 || strings.Count(token, ".") != 2 {
		t.Fatalf("gentoken: exit %d, %q, %q", code, token, stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tail := exec.CommandContext(ctx, binary, "client", "--url", p.wsURL, "--token", token, "tail", "--count", "1", "chat:lobby")
	tail.Env = baseEnv()
	out, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.Contains(lines.Text(), "subscribed chat:lobby") {
		t.Fatalf("tail's first line %q, want the subscription", lines.Text())
	}
	code, stdout, stderr := runToExit(t, []string{"client", "--api", p.apiURL, "publish", "chat:lobby", `{"t":"chat_message","p":{"text":"hello"}}`})
	if code != 0 || !strings.Contains(stdout, "delivered to 1 ") {
		t.Fatalf("publish: exit %d, %q, %q", code, stdout, stderr)
	}
	if !lines.Scan() || lines.Text() != `chat:lobby chat_message {"text":"hello"}` {
		t.Fatalf("tail printed %q", lines.Text())
	}
	if err := tail.Wait(); err != nil {
		t.Fatalf("tail --count 1 did not exit cleanly: %v", err)
	}

	// A topic outside --client-topics is refused, with exit code 1.
	code, stdout, _ = runToExit(t, []string{"client", "--url", p.wsURL, "--token", token, "subscribe", "news"})
	if code != 1 || !strings.Contains(stdout, "refused    news (FORBIDDEN)") {
		t.Fatalf("subscribe news: exit %d, %q", code, stdout)
	}
}
