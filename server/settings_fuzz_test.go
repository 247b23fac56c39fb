package server

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary YAML files, flag values and environment values to
// Load: it must never panic, and every failure must wrap ErrInvalidConfig
// with a one-line message (or be flag.ErrHelp).
func FuzzLoad(f *testing.F) {
	f.Add("port: 5007\nclient-topics: [a, b]\n", "max-message-size", "64KiB", "1s")
	f.Add("presence: yes\n", "ping-interval", "45s", "")
	f.Add("port: [1\n", "port", "-1", "x\ny")
	f.Add("recovery-ttl: 1e400\n", "recovery-memory-budget", "9999999999999GiB", "0")
	f.Add(":\n- - -\n", "client-topics", "a,\x00,b", "1e-9")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, file, flagName, flagValue, envValue string) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Skip()
		}
		args := []string{"--config", path, "--" + flagName + "=" + flagValue}
		env := envMap(map[string]string{"WSE_IDLE_TIMEOUT": envValue})
		c, err := Load(args, env)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted a config that Validate rejects: %v", verr)
			}
			return
		}
		if errors.Is(err, flag.ErrHelp) { // --help=…, --h=…
			return
		}
		if !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("error %v does not wrap ErrInvalidConfig", err)
		}
		if strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error is not one line: %q", err.Error())
		}
	})
}
