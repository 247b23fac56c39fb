package server

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// envMap returns a lookupEnv function over m.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes a config file in a test directory and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "wse.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadWithNothingGivesDesignDefaults(t *testing.T) {
	t.Parallel()
	// --dev=false: with no setting at all, Load turns on dev mode
	// (TestLoadWithNoSettingsTurnsOnDevMode).
	c, err := Load([]string{"--dev=false"}, envMap(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(c, DefaultConfig()) {
		t.Fatalf("Load() = %+v\nwant DefaultConfig() %+v", c, DefaultConfig())
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"host", c.Host, "127.0.0.1"},
		{"port", c.Port, 5007},
		{"path", c.Path, "/wse"},
		{"api-addr", c.APIAddr, "127.0.0.1:5008"},
		{"api-key", c.APIKey, ""},
		{"max-connections", c.MaxConnections, 10000},
		{"jwt-cookie-name", c.JWTCookieName, "access_token"},
		{"client-subscriptions", c.ClientSubscriptions, "acl"},
		{"presence", c.Presence, false},
		{"presence-max-data-size", c.PresenceMaxDataSize, 4096},
		{"recovery-buffer-size", c.RecoveryBufferSize, 256},
		{"recovery-ttl", c.RecoveryTTL, 300 * time.Second},
		{"recovery-max-messages", c.RecoveryMaxMessages, 500},
		{"recovery-memory-budget", c.RecoveryMemoryBudget, int64(256 << 20)},
		{"max-message-size", c.MaxMessageSize, int64(1 << 20)},
		{"compression-threshold", c.CompressionThreshold, 1024},
		{"ping-interval", c.PingInterval, 25 * time.Second},
		{"idle-timeout", c.IdleTimeout, 60 * time.Second},
		{"max-outbound-queue-bytes", c.MaxOutboundQueueBytes, 16 << 20},
		{"max-inbound-queue-size", c.MaxInboundQueueSize, 131072},
		{"rate-limit-capacity", c.RateLimitCapacity, 100000.0},
		{"rate-limit-refill", c.RateLimitRefill, 10000.0},
		{"cluster-port", c.ClusterPort, 0},
		{"drain-timeout", c.DrainTimeout, 30 * time.Second},
		{"events-buffer-size", c.EventsBufferSize, 10000},
		{"log-level", c.LogLevel, slog.LevelInfo},
		{"log-format", c.LogFormat, "text"},
		{"demo", c.Demo, true},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("default --%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadPrecedenceIsFlagEnvFileDefault(t *testing.T) {
	t.Parallel()
	file := writeFile(t, `
port: 6001
max-connections: 11
log-level: debug
client-topics:
  - "chat:*"
  - "user:{user_id}"
presence: true
recovery-ttl: 90s
`)
	env := map[string]string{"WSE_CONFIG": file, "WSE_PORT": "6002", "WSE_MAX_CONNECTIONS": "22"}
	c, err := Load([]string{"--port", "6003"}, envMap(env))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"flag beats env and file", c.Port, 6003},
		{"env beats file", c.MaxConnections, 22},
		{"file beats default (level)", c.LogLevel, slog.LevelDebug},
		{"file list", c.ClientTopics, []string{"chat:*", "user:{user_id}"}},
		{"file bool", c.Presence, true},
		{"file duration", c.RecoveryTTL, 90 * time.Second},
		{"default when unset", c.Path, "/wse"},
		{"config file recorded", c.ConfigFile, file},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}

	// --config beats WSE_CONFIG.
	other := writeFile(t, "port: 6004\n")
	c, err = Load([]string{"--config=" + other}, envMap(map[string]string{"WSE_CONFIG": file}))
	if err != nil || c.Port != 6004 {
		t.Fatalf("--config over WSE_CONFIG: port %d, err %v", c.Port, err)
	}
}

func TestLoadParsesEveryKind(t *testing.T) {
	t.Parallel()
	c, err := Load([]string{
		"--presence", "--recovery=true", "--demo=false",
		"--max-message-size", "64KiB", "--recovery-memory-budget", "1GB",
		"--presence-max-data-size=512", "--compression-threshold", "0",
		"--ping-interval", "10", "--idle-timeout", "1m30s",
		"--allowed-origins", "https://a.example, https://b.example,,",
		"--rate-limit-refill", "2.5", "--client-subscriptions", "ANY",
		"--log-format", "json", "--log-level", "warn",
	}, envMap(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"bare bool", c.Presence, true},
		{"bool=true", c.Recovery, true},
		{"bool=false", c.Demo, false},
		{"KiB", c.MaxMessageSize, int64(64 << 10)},
		{"GB", c.RecoveryMemoryBudget, int64(1e9)},
		{"plain size", c.PresenceMaxDataSize, 512},
		{"zero threshold", c.CompressionThreshold, 0},
		{"plain seconds", c.PingInterval, 10 * time.Second},
		{"go duration", c.IdleTimeout, 90 * time.Second},
		{"list trimmed", c.AllowedOrigins, []string{"https://a.example", "https://b.example"}},
		{"float", c.RateLimitRefill, 2.5},
		{"enum case-insensitive", c.ClientSubscriptions, "any"},
		{"log format", c.LogFormat, "json"},
		{"log level", c.LogLevel, slog.LevelWarn},
	}
	for _, tc := range checks {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if ec := c.engineConfig(); ec.CompressionThreshold >= 0 || ec.Port != 5007 {
		t.Errorf("engine config: threshold %d (want negative = never), port %d", ec.CompressionThreshold, ec.Port)
	}
}

func TestLoadInvalidValueNamesTheSetting(t *testing.T) {
	t.Parallel()
	badFile := writeFile(t, "port: [1, 2]\n")
	unknownKey := writeFile(t, "prot: 5007\n")
	brokenYAML := writeFile(t, "port: [1\n")
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		setting string // must appear in the message
	}{
		{"flag not a number", []string{"--port", "abc"}, nil, "--port"},
		{"flag out of range", []string{"--port", "70000"}, nil, "--port"},
		{"env not a duration", nil, map[string]string{"WSE_PING_INTERVAL": "soon"}, "--ping-interval"},
		{"ping too slow", []string{"--ping-interval", "45s"}, nil, "--ping-interval"},
		{"idle below ping", []string{"--idle-timeout", "20s"}, nil, "--idle-timeout"},
		{"bad enum", []string{"--client-subscriptions", "open"}, nil, "--client-subscriptions"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"bad size", []string{"--max-message-size", "lots"}, nil, "--max-message-size"},
		{"zero size", []string{"--max-outbound-queue-bytes", "0"}, nil, "--max-outbound-queue-bytes"},
		{"negative float", []string{"--rate-limit-capacity", "-1"}, nil, "--rate-limit-capacity"},
		{"bad bool", []string{"--presence=maybe"}, nil, "--presence"},
		{"path without slash", []string{"--path", "wse"}, nil, "--path"},
		{"short secret", []string{"--jwt-secret", "short"}, nil, "--jwt-secret"},
		{"previous secret alone", []string{"--jwt-previous-secret", strings.Repeat("p", 32)}, nil, "--jwt-previous-secret"},
		{"bad api addr", []string{"--api-addr", "nowhere"}, nil, "--api-addr"},
		{"api key needed off loopback", []string{"--api-addr", "0.0.0.0:5008"}, nil, "--api-key"},
		{"api key needed on all interfaces", []string{"--api-addr", ":5008"}, nil, "--api-key"},
		{"invalid client topic", []string{"--client-topics", "ok,bad\x01"}, nil, "--client-topics"},
		{"invalid on-connect topic", []string{"--subscribe-on-connect", strings.Repeat("t", 300)}, nil, "--subscribe-on-connect"},
		{"tls incomplete", []string{"--tls-cert", "/etc/hostname"}, nil, "--tls-"},
		{"unknown flag", []string{"--prot", "1"}, nil, "-prot"},
		{"positional argument", []string{"serve"}, nil, "serve"},
		{"file list for a scalar", []string{"--config", badFile}, nil, "port"},
		{"file unknown key", []string{"--config", unknownKey}, nil, "prot"},
		{"file broken", []string{"--config", brokenYAML}, nil, "--config"},
		{"file missing", []string{"--config", "/nonexistent/wse.yaml"}, nil, "--config"},
		{"peers without cluster port", nil, map[string]string{"WSE_PEERS": "127.0.0.2:7000"}, "--peers"},
		{"seeds without cluster port", []string{"--seeds", "127.0.0.3:7000"}, nil, "--seeds"},
		{"seed not host:port", []string{"--cluster-port", "7000", "--seeds", "nowhere"}, nil, "--seeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.args, envMap(tc.env))
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Load(%q) = %v, want ErrInvalidConfig", tc.args, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.setting) || strings.Contains(msg, "\n") {
				t.Fatalf("message %q: want one line naming %q", msg, tc.setting)
			}
		})
	}
}

func TestLoadNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	_, err := Load([]string{"--jwt-secret", "hunter2-very-secret"}, envMap(nil))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v echoes the secret", err)
	}
}

func TestLoadAcceptsValidClusterTLSAndLoopbackNames(t *testing.T) {
	t.Parallel()
	f := writeFile(t, "x")
	tests := [][]string{
		{"--tls-ca", f, "--tls-cert", f, "--tls-key", f, "--cluster-addr", "10.0.0.1:7000"},
		{"--api-addr", "localhost:0"},
		{"--api-addr", "[::1]:5008"},
		{"--api-addr", "0.0.0.0:5008", "--api-key", "k"},
	}
	for _, args := range tests {
		if _, err := Load(args, envMap(nil)); err != nil {
			t.Errorf("Load(%q) = %v", args, err)
		}
	}
}

func TestLoadHelpReturnsErrHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help"} {
		if _, err := Load([]string{arg}, envMap(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%s) = %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestUsageListsEverySettingWithEnvAndDefault(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, s := range Settings() {
		if !strings.Contains(out, "--"+s.Name) || !strings.Contains(out, s.Env) {
			t.Errorf("usage lacks --%s or %s", s.Name, s.Env)
		}
		if s.Default != "" && !strings.Contains(out, "default "+s.Default) {
			t.Errorf("usage lacks the default of --%s (%s)", s.Name, s.Default)
		}
	}
}

func TestSettingsCoverTheDesignFlagTable(t *testing.T) {
	t.Parallel()
	design := []string{"host", "port", "path", "api-addr", "api-key", "max-connections",
		"jwt-secret", "jwt-issuer", "jwt-audience", "jwt-cookie-name", "jwt-previous-secret",
		"allowed-origins", "client-subscriptions", "client-topics", "subscribe-on-connect",
		"presence", "presence-max-data-size", "presence-max-members",
		"recovery", "recovery-buffer-size", "recovery-ttl", "recovery-max-messages", "recovery-memory-budget",
		"max-message-size", "compression-threshold", "ping-interval", "idle-timeout",
		"max-outbound-queue-bytes", "max-inbound-queue-size", "rate-limit-capacity", "rate-limit-refill",
		"cluster-port", "cluster-addr", "peers", "seeds", "tls-ca", "tls-cert", "tls-key",
		"drain-timeout", "log-level", "log-format", "config"}
	have := map[string]string{}
	for _, s := range Settings() {
		have[s.Name] = s.Env
	}
	for _, name := range design {
		env, ok := have[name]
		if !ok {
			t.Errorf("setting --%s missing", name)
			continue
		}
		if want := "WSE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")); env != want {
			t.Errorf("--%s env = %s, want %s", name, env, want)
		}
	}
}

func TestConfigurationDocListsEverySetting(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatalf("docs/configuration.md: %v", err)
	}
	for _, s := range Settings() {
		if !bytes.Contains(doc, []byte("`--"+s.Name+"`")) || !bytes.Contains(doc, []byte("`"+s.Env+"`")) {
			t.Errorf("docs/configuration.md lacks `--%s` or `%s`", s.Name, s.Env)
		}
	}
}

func TestParseSizeHandlesUnitsAndBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true},
		{"1KiB", 1024, true},
		{"1kib", 1024, true},
		{"16MiB", 16 << 20, true},
		{"2 GiB", 2 << 30, true},
		{"5KB", 5000, true},
		{"7b", 7, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5MiB", 0, false},
		{"MiB", 0, false},
		{"9999999999999GiB", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseSize(tc.in, 0, 1<<62)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}
