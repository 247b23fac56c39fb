package main

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// bannerLines runs the binary until it has printed two stdout lines.
func bannerLines(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := make(chan string, 2)
	go func() {
		sc := bufio.NewScanner(out)
		for i := 0; i < 2 && sc.Scan(); i++ {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	timeout := time.After(waitTimeout)
	for len(got) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("wse-server %q printed only %q", args, got)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("wse-server %q: no banner within %s (got %q)", args, waitTimeout, got)
		}
	}
	return got
}

func TestBinaryBannerNamesDevModeOrThePolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"zero-config", freePorts, "wse-server: dev mode (started with no settings): clients may subscribe to demo:*"},
		{"configured", append([]string{"--client-topics", "news:*"}, freePorts...), "wse-server: subscription policy acl: clients may subscribe to news:*"},
		{"production default", append([]string{"--dev=false"}, freePorts...), "wse-server: subscription policy acl: no --client-topics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lines := bannerLines(t, tc.args...)
			if !readyLine.MatchString(lines[0]) || !strings.Contains(lines[0], "/admin") {
				t.Fatalf("first line %q", lines[0])
			}
			if !strings.HasPrefix(lines[1], tc.want) {
				t.Fatalf("second line %q, want it to start %q", lines[1], tc.want)
			}
		})
	}
}
