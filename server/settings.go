package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// EnvPrefix starts the environment variable of every setting.
const EnvPrefix = "WSE_"

// Setting describes one configuration setting, as listed by --help.
type Setting struct {
	// Name is the flag name (without dashes) and the YAML key.
	Name string
	// Env is the environment variable, EnvPrefix + Name in upper case with
	// '-' replaced by '_'.
	Env string
	// Kind names the value syntax: string, int, bool, size, duration, float,
	// list or one of the allowed words joined by '|'.
	Kind string
	// Default is the default value as text ("" = none).
	Default string
	// Usage is the one-line description.
	Usage string
}

// setting is a Setting with its parser and cross-field check.
type setting struct {
	name   string
	kind   string
	def    string
	usage  string
	secret bool                            // never echo the value
	set    func(c *Config, v string) error // parse v into c
	check  func(c Config) error            // optional check on the whole config
}

func envName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Settings returns every setting in --help order.
func Settings() []Setting {
	out := make([]Setting, 0, len(settings)+1)
	out = append(out, Setting{Name: "config", Env: envName("config"), Kind: "string", Usage: configUsage})
	for _, s := range settings {
		out = append(out, Setting{Name: s.name, Env: envName(s.name), Kind: s.kind, Default: s.def, Usage: s.usage})
	}
	return out
}

const configUsage = "YAML file whose keys are flag names (precedence: flag > env > file > default)"

// Load builds a Config from command-line args (without the program name),
// the environment (lookupEnv, normally os.LookupEnv) and the YAML file named
// by --config or WSE_CONFIG. Each setting takes, in order of precedence, its
// flag, its environment variable, its key in the file, or its default. The
// result is validated. Load returns flag.ErrHelp for -h/--help, and an
// error wrapping ErrInvalidConfig that names the
// setting otherwise.
func Load(args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	fs := flag.NewFlagSet("wse-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	configFlag := &rawValue{}
	fs.Var(configFlag, "config", configUsage)
	flags := make([]*rawValue, len(settings))
	for i, s := range settings {
		flags[i] = &rawValue{boolean: s.kind == "bool"}
		fs.Var(flags[i], s.name, s.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, flag.ErrHelp
		}
		return Config{}, fmt.Errorf("%w: %s", ErrInvalidConfig, oneLine(err.Error()))
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("%w: unexpected argument %q (settings are --flags)", ErrInvalidConfig, fs.Arg(0))
	}

	var c Config
	switch v, ok := lookupEnv(envName("config")); {
	case configFlag.isSet:
		c.ConfigFile = configFlag.value
	case ok:
		c.ConfigFile = v
	}
	file, err := readConfigFile(c.ConfigFile)
	if err != nil {
		return Config{}, err
	}
	explicit := make(map[string]bool, len(settings))
	for i, s := range settings {
		value, source := s.def, "default"
		if v, ok := file[s.name]; ok {
			value, source = v, "file "+c.ConfigFile
		}
		if v, ok := lookupEnv(envName(s.name)); ok {
			value, source = v, "env "+envName(s.name)
		}
		if flags[i].isSet {
			value, source = flags[i].value, "flag"
		}
		explicit[s.name] = source != "default"
		if err := s.set(&c, value); err != nil {
			if s.secret {
				return Config{}, invalid(s.name, "%v (from %s)", err, source)
			}
			return Config{}, invalid(s.name, "%q: %v (from %s)", value, err, source)
		}
	}
	applyDev(&c, explicit)
	return c, c.Validate()
}

// devNeutral are the settings that leave a server zero-config: they change
// neither who may connect nor what clients may do.
var devNeutral = []string{"port", "api-addr", "log-level", "log-format"}

// applyDev turns dev mode on for a zero-config start (no config file, no
// setting given but devNeutral ones, --dev not given either way), then
// applies dev mode's defaults to the settings that were not given.
func applyDev(c *Config, explicit map[string]bool) {
	if !explicit["dev"] && c.ConfigFile == "" {
		zero := true
		for name, given := range explicit {
			if given && !slices.Contains(devNeutral, name) {
				zero = false
				break
			}
		}
		c.Dev, c.DevAuto = zero, zero
	}
	if !c.Dev {
		return
	}
	if !explicit["presence"] {
		c.Presence = true
	}
	if !explicit["recovery"] {
		c.Recovery = true
	}
}

// readConfigFile reads the YAML file into setting name → value text. Lists
// may be YAML sequences; they become comma lists.
func readConfigFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: --config %s: %s", ErrInvalidConfig, path, fmt.Sprintf(format, args...))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, bad("%v", err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, bad("%s", oneLine(err.Error()))
	}
	out := make(map[string]string, len(doc))
	for key, node := range doc {
		i := slices.IndexFunc(settings, func(s setting) bool { return s.name == key })
		if i < 0 {
			return nil, bad("unknown key %q", key)
		}
		switch {
		case node.Kind == yaml.ScalarNode && node.Tag == "!!null":
		case node.Kind == yaml.ScalarNode:
			out[key] = node.Value
		case node.Kind == yaml.SequenceNode && settings[i].kind == "list":
			items := make([]string, 0, len(node.Content))
			for _, item := range node.Content {
				if item.Kind != yaml.ScalarNode {
					return nil, bad("%s: list items must be plain values", key)
				}
				items = append(items, item.Value)
			}
			out[key] = strings.Join(items, ",")
		default:
			return nil, bad("%s: expects a single %s value", key, settings[i].kind)
		}
	}
	return out, nil
}

// oneLine escapes line breaks so that an error message stays on one line.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace

// Usage writes the --help text: every setting with its environment variable
// and default.
func Usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: wse-server [flags]\n\n")
	b.WriteString("WSE standalone server: WebSocket endpoint, demo page and control API.\n")
	b.WriteString("Every flag is also an environment variable (shown) and a key of the\n")
	b.WriteString("YAML --config file. Precedence: flag > env > file > default.\n")
	b.WriteString("Sizes take B, KB, MB, GB, KiB, MiB or GiB; durations take Go syntax (90s, 5m)\n")
	b.WriteString("or plain seconds; lists are comma-separated.\n\n")
	for _, s := range Settings() {
		arg := " " + s.Kind
		if s.Kind == "bool" {
			arg = ""
		}
		fmt.Fprintf(&b, "  --%s%s\n        %s\n        env %s", s.Name, arg, s.Usage, s.Env)
		if s.Default != "" {
			fmt.Fprintf(&b, ", default %s", s.Default)
		}
		b.WriteString("\n")
	}
	_, _ = io.WriteString(w, b.String())
}

// rawValue is a flag.Value that keeps the text given on the command line;
// settings are parsed later, once precedence is resolved.
type rawValue struct {
	value   string
	isSet   bool
	boolean bool
}

func (v *rawValue) String() string { return v.value }

func (v *rawValue) Set(s string) error {
	v.value, v.isSet = s, true
	return nil
}

// IsBoolFlag lets boolean settings be given as a bare --flag.
func (v *rawValue) IsBoolFlag() bool { return v.boolean }

// Value parsers. Each returns a setter for the field that ptr selects.

func stringVal(ptr func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*ptr(c) = v
		return nil
	}
}

func enumVal(ptr func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
		}
		*ptr(c) = v
		return nil
	}
}

func listVal(ptr func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var list []string
		for item := range strings.SplitSeq(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		*ptr(c) = list
		return nil
	}
}

func boolVal(ptr func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return errors.New("not true or false")
		}
		*ptr(c) = b
		return nil
	}
}

func parseInt(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, errors.New("not an integer")
	}
	if n < lo || n > hi {
		return 0, rangeError(lo, hi)
	}
	return n, nil
}

func rangeError(lo, hi int64) error {
	if hi == math.MaxInt32 || hi == math.MaxInt64 {
		return fmt.Errorf("must be at least %d", lo)
	}
	return fmt.Errorf("must be between %d and %d", lo, hi)
}

func intVal(ptr func(*Config) *int, lo, hi int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseInt(v, lo, hi)
		*ptr(c) = int(n)
		return err
	}
}

// sizeUnits are the size suffixes, longest first.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"b", 1},
}

// parseSize parses a byte count with an optional unit suffix.
func parseSize(v string, lo, hi int64) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a size (e.g. 4096, 64KiB, 16MiB)")
	}
	if n > math.MaxInt64/mult || n*mult < lo || n*mult > hi {
		return 0, rangeError(lo, hi)
	}
	return n * mult, nil
}

func sizeVal(ptr func(*Config) *int, lo int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseSize(v, lo, math.MaxInt32)
		*ptr(c) = int(n)
		return err
	}
}

func size64Val(ptr func(*Config) *int64, lo int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseSize(v, lo, math.MaxInt64)
		*ptr(c) = n
		return err
	}
}

func floatVal(ptr func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		switch {
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
			return errors.New("not a number")
		case f <= 0:
			return errors.New("must be positive")
		}
		*ptr(c) = f
		return nil
	}
}

// durationVal parses Go durations ("90s", "5m") or plain seconds.
func durationVal(ptr func(*Config) *time.Duration) func(*Config, string) error {
	return durationFrom(ptr, false)
}

// durationFrom parses a duration, accepting zero when zeroOK.
func durationFrom(ptr func(*Config) *time.Duration, zeroOK bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, ferr := strconv.ParseFloat(v, 64)
			if ferr != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > math.MaxInt64/float64(time.Second) {
				return errors.New("not a duration (e.g. 30s, 5m)")
			}
			d = time.Duration(secs * float64(time.Second))
		}
		switch {
		case d < 0 && zeroOK:
			return errors.New("must not be negative")
		case d <= 0 && !zeroOK:
			return errors.New("must be positive")
		}
		*ptr(c) = d
		return nil
	}
}

func levelVal(c *Config, v string) error {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	l, ok := levels[strings.ToLower(strings.TrimSpace(v))]
	if !ok {
		return errors.New("must be one of debug, info, warn, error")
	}
	c.LogLevel = l
	return nil
}

// settings is the table of every setting but --config, in --help order.
var settings = []setting{
	{name: "host", kind: "string", def: "127.0.0.1", usage: "WebSocket listen host",
		set: stringVal(func(c *Config) *string { return &c.Host })},
	{name: "port", kind: "int", def: "5007", usage: "WebSocket listen port (0 = any free port)",
		set: intVal(func(c *Config) *int { return &c.Port }, 0, 65535)},
	{name: "path", kind: "string", def: "/wse", usage: "WebSocket upgrade path",
		set: stringVal(func(c *Config) *string { return &c.Path }),
		check: func(c Config) error {
			if !strings.HasPrefix(c.Path, "/") || c.Path == "/" {
				return fmt.Errorf("%q must start with / and not be /", c.Path)
			}
			return nil
		}},
	{name: "api-addr", kind: "string", def: "127.0.0.1:5008", usage: "control API listen address (host:port)",
		set:   stringVal(func(c *Config) *string { return &c.APIAddr }),
		check: func(c Config) error { return checkHostPort(c.APIAddr) }},
	{name: "api-key", kind: "string", usage: "control API key (Authorization: Bearer); required when --api-addr is not loopback", secret: true,
		set: stringVal(func(c *Config) *string { return &c.APIKey }),
		check: func(c Config) error {
			if c.APIKey == "" && !isLoopback(c.APIAddr) {
				return fmt.Errorf("required when --api-addr (%s) is not a loopback address", c.APIAddr)
			}
			return nil
		}},
	{name: "max-connections", kind: "int", def: "10000", usage: "maximum open connections",
		set: intVal(func(c *Config) *int { return &c.MaxConnections }, 1, math.MaxInt32)},
	{name: "jwt-secret", kind: "string", usage: "HS256 secret (at least 32 bytes); none = no authentication", secret: true,
		set: stringVal(func(c *Config) *string { return &c.JWTSecret }),
		check: func(c Config) error {
			if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
				return fmt.Errorf("must be at least 32 bytes, got %d", len(c.JWTSecret))
			}
			return nil
		}},
	{name: "jwt-issuer", kind: "string", usage: "required iss claim",
		set: stringVal(func(c *Config) *string { return &c.JWTIssuer })},
	{name: "jwt-audience", kind: "string", usage: "required aud claim",
		set: stringVal(func(c *Config) *string { return &c.JWTAudience })},
	{name: "jwt-cookie-name", kind: "string", def: "access_token", usage: "cookie that carries the token",
		set: stringVal(func(c *Config) *string { return &c.JWTCookieName }),
		check: func(c Config) error {
			if c.JWTCookieName == "" || strings.ContainsAny(c.JWTCookieName, " \t;=,\"") {
				return fmt.Errorf("%q is not a cookie name", c.JWTCookieName)
			}
			return nil
		}},
	{name: "jwt-previous-secret", kind: "string", usage: "previous HS256 secret, still accepted (key rotation)", secret: true,
		set: stringVal(func(c *Config) *string { return &c.JWTPreviousSecret }),
		check: func(c Config) error {
			switch {
			case c.JWTPreviousSecret == "":
			case c.JWTSecret == "":
				return errors.New("needs --jwt-secret")
			case len(c.JWTPreviousSecret) < 32:
				return fmt.Errorf("must be at least 32 bytes, got %d", len(c.JWTPreviousSecret))
			}
			return nil
		}},
	{name: "auth-first-message", kind: "bool", def: "false", usage: "a client without a token may send it as its first message {\"t\":\"auth\",\"p\":{\"token\":…}} within 5s",
		set: boolVal(func(c *Config) *bool { return &c.AuthFirstMessage }),
		check: func(c Config) error {
			if c.AuthFirstMessage && c.JWTSecret == "" {
				return errors.New("needs --jwt-secret")
			}
			return nil
		}},
	{name: "allowed-origins", kind: "list", usage: "browser origins accepted besides the same host (* = any)",
		set: listVal(func(c *Config) *[]string { return &c.AllowedOrigins })},
	{name: "client-subscriptions", kind: "acl|app|any", def: "acl", usage: "policy for subscription requests from clients",
		set: enumVal(func(c *Config) *string { return &c.ClientSubscriptions }, "acl", "app", "any")},
	{name: "client-topics", kind: "list", usage: "topic globs clients may subscribe to under acl; {user_id} allowed",
		set:   listVal(func(c *Config) *[]string { return &c.ClientTopics }),
		check: func(c Config) error { return checkTopics(c.ClientTopics) }},
	{name: "subscribe-on-connect", kind: "list", usage: "topics every new connection is subscribed to; {user_id} = JWT subject",
		set:   listVal(func(c *Config) *[]string { return &c.SubscribeOnConnect }),
		check: func(c Config) error { return checkTopics(c.SubscribeOnConnect) }},
	{name: "max-subscriptions-per-connection", kind: "int", def: "0", usage: "topics per connection (0 = no limit)",
		set: intVal(func(c *Config) *int { return &c.MaxSubscriptionsPerConnection }, 0, math.MaxInt32)},
	{name: "presence", kind: "bool", def: "false", usage: "track presence per topic",
		set: boolVal(func(c *Config) *bool { return &c.Presence })},
	{name: "presence-max-data-size", kind: "size", def: "4096", usage: "largest presence data (JSON bytes)",
		set: sizeVal(func(c *Config) *int { return &c.PresenceMaxDataSize }, 2)},
	{name: "presence-max-members", kind: "int", def: "0", usage: "users per topic (0 = no limit)",
		set: intVal(func(c *Config) *int { return &c.PresenceMaxMembers }, 0, math.MaxInt32)},
	{name: "recovery", kind: "bool", def: "false", usage: "buffer topic messages so reconnecting clients can recover",
		set: boolVal(func(c *Config) *bool { return &c.Recovery })},
	{name: "recovery-buffer-size", kind: "int", def: "256", usage: "messages kept per topic",
		set: intVal(func(c *Config) *int { return &c.RecoveryBufferSize }, 1, 1<<24)},
	{name: "recovery-ttl", kind: "duration", def: "300s", usage: "drop a topic's buffer after this long without messages",
		set: durationVal(func(c *Config) *time.Duration { return &c.RecoveryTTL })},
	{name: "recovery-max-messages", kind: "int", def: "500", usage: "largest replay",
		set: intVal(func(c *Config) *int { return &c.RecoveryMaxMessages }, 1, math.MaxInt32)},
	{name: "recovery-memory-budget", kind: "size", def: "256MiB", usage: "bytes buffered over all topics",
		set: size64Val(func(c *Config) *int64 { return &c.RecoveryMemoryBudget }, 1)},
	{name: "encryption", kind: "bool", def: "true", usage: "let clients negotiate end-to-end encryption (ECDH P-256, AES-256-GCM)",
		set: boolVal(func(c *Config) *bool { return &c.Encryption })},
	{name: "write-delay", kind: "duration", def: "0s", usage: "hold each connection's output this long so messages share a write (less CPU, more latency; at most 1s)",
		set: durationFrom(func(c *Config) *time.Duration { return &c.WriteDelay }, true),
		check: func(c Config) error {
			if c.WriteDelay > time.Second {
				return fmt.Errorf("%s is over 1s", c.WriteDelay)
			}
			return nil
		}},
	{name: "max-message-size", kind: "size", def: "1MiB", usage: "largest inbound message",
		set: size64Val(func(c *Config) *int64 { return &c.MaxMessageSize }, 1)},
	{name: "compression-threshold", kind: "size", def: "1024", usage: "compress events longer than this (0 = never)",
		set: sizeVal(func(c *Config) *int { return &c.CompressionThreshold }, 0)},
	{name: "ping-interval", kind: "duration", def: "25s", usage: "server ping period (below 40s)",
		set: durationVal(func(c *Config) *time.Duration { return &c.PingInterval }),
		check: func(c Config) error {
			if c.PingInterval >= 40*time.Second {
				return fmt.Errorf("%s must be below 40s (the Python client's watchdog)", c.PingInterval)
			}
			return nil
		}},
	{name: "idle-timeout", kind: "duration", def: "60s", usage: "close connections silent for this long (4408)",
		set: durationVal(func(c *Config) *time.Duration { return &c.IdleTimeout }),
		check: func(c Config) error {
			if c.IdleTimeout <= c.PingInterval {
				return fmt.Errorf("%s must be longer than --ping-interval %s", c.IdleTimeout, c.PingInterval)
			}
			return nil
		}},
	{name: "max-outbound-queue-bytes", kind: "size", def: "16MiB", usage: "pending outbound bytes per connection",
		set: sizeVal(func(c *Config) *int { return &c.MaxOutboundQueueBytes }, 1)},
	{name: "socket-send-buffer", kind: "size", def: "0", usage: "fixed kernel send buffer per connection (SO_SNDBUF; 0 = kernel autotuning)",
		set: sizeVal(func(c *Config) *int { return &c.SocketSendBuffer }, 0)},
	{name: "max-inbound-queue-size", kind: "int", def: "131072", usage: "engine event queue length",
		set: intVal(func(c *Config) *int { return &c.MaxInboundQueueSize }, 1, 1<<26)},
	{name: "rate-limit-capacity", kind: "float", def: "100000", usage: "inbound token bucket size per connection",
		set: floatVal(func(c *Config) *float64 { return &c.RateLimitCapacity })},
	{name: "rate-limit-refill", kind: "float", def: "10000", usage: "inbound tokens per second per connection",
		set: floatVal(func(c *Config) *float64 { return &c.RateLimitRefill })},
	{name: "cluster-port", kind: "int", def: "0", usage: "cluster listen port on --host (0 = no cluster)",
		set: intVal(func(c *Config) *int { return &c.ClusterPort }, 0, 65535)},
	{name: "cluster-addr", kind: "string", usage: "address peers reach this node at (host:port)",
		set: stringVal(func(c *Config) *string { return &c.ClusterAddr }),
		check: func(c Config) error {
			if c.ClusterAddr == "" {
				return nil
			}
			return checkHostPort(c.ClusterAddr)
		}},
	{name: "peers", kind: "list", usage: "static cluster peers (host:port); needs --cluster-port",
		set:   listVal(func(c *Config) *[]string { return &c.Peers }),
		check: checkClusterList(func(c Config) []string { return c.Peers })},
	{name: "seeds", kind: "list", usage: "cluster seed nodes (host:port) whose member lists are learned; needs --cluster-port",
		set:   listVal(func(c *Config) *[]string { return &c.Seeds }),
		check: checkClusterList(func(c Config) []string { return c.Seeds })},
	{name: "tls-ca", kind: "string", usage: "cluster mTLS CA certificate file",
		set:   stringVal(func(c *Config) *string { return &c.TLSCA }),
		check: checkTLS},
	{name: "tls-cert", kind: "string", usage: "cluster mTLS certificate file",
		set: stringVal(func(c *Config) *string { return &c.TLSCert })},
	{name: "tls-key", kind: "string", usage: "cluster mTLS private key file",
		set: stringVal(func(c *Config) *string { return &c.TLSKey })},
	{name: "drain-timeout", kind: "duration", def: "30s", usage: "graceful shutdown bound (SIGTERM/SIGINT)",
		set: durationVal(func(c *Config) *time.Duration { return &c.DrainTimeout })},
	{name: "events-buffer-size", kind: "int", def: "10000", usage: "events kept for GET /api/events (oldest discarded)",
		set: intVal(func(c *Config) *int { return &c.EventsBufferSize }, 1, 1<<24)},
	{name: "pprof", kind: "bool", def: "false", usage: "serve Go profiles at /debug/pprof/ on the control API (behind --api-key)",
		set: boolVal(func(c *Config) *bool { return &c.Pprof })},
	{name: "demo", kind: "bool", def: "true", usage: "serve the demo page at / on the WebSocket port",
		set: boolVal(func(c *Config) *bool { return &c.Demo })},
	{name: "dev", kind: "bool", def: "false", usage: "development mode for the demo page: clients may subscribe to " + DemoTopics + ", the server relays the demo chat, presence and recovery default to on; on by itself when no setting is given but --port, --api-addr and --log-*",
		set: boolVal(func(c *Config) *bool { return &c.Dev })},
	{name: "log-level", kind: "debug|info|warn|error", def: "info", usage: "log level",
		set: levelVal},
	{name: "log-format", kind: "text|json", def: "text", usage: "log format",
		set: enumVal(func(c *Config) *string { return &c.LogFormat }, "text", "json")},
}

// checkClusterList validates a list of cluster addresses, which only make
// sense with a cluster port.
func checkClusterList(list func(Config) []string) func(Config) error {
	return func(c Config) error {
		addrs := list(c)
		if len(addrs) > 0 && c.ClusterPort == 0 {
			return fmt.Errorf("needs --cluster-port")
		}
		for _, a := range addrs {
			if err := checkHostPort(a); err != nil {
				return err
			}
		}
		return nil
	}
}
