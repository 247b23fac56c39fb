package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"regexp"
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
	// Group is the --help section the setting is listed under ("listener",
	// "auth", …); see settingGroups.
	Group string
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
	out = append(out, Setting{Name: "config", Env: envName("config"), Kind: "string", Usage: configUsage, Group: groupOf("config")})
	for _, s := range settings {
		out = append(out, Setting{Name: s.name, Env: envName(s.name), Kind: s.kind, Default: s.def, Usage: s.usage, Group: groupOf(s.name)})
	}
	return out
}

const configUsage = "YAML file whose keys are flag names (precedence: flag > env > file > default)"

// Load builds a Config from command-line args (without the program name),
// the environment (lookupEnv, normally os.LookupEnv) and the YAML file named
// by --config or WSE_CONFIG. Each setting takes, in order of precedence, its
// flag, its environment variable, its key in the file, or its default. The
// result is validated. Load returns flag.ErrHelp for -h/--help, and an
// error wrapping ErrInvalidConfig that names the setting and where its value
// came from otherwise. An unknown flag or file key is an error that suggests
// the nearest setting; LoadEnviron also refuses unknown WSE_* variables.
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
		return Config{}, flagError(err)
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
	sources := make(map[string]string, len(settings))
	explicit := make(map[string]bool, len(settings))
	for i, s := range settings {
		value, source := s.def, ""
		if v, ok := file[s.name]; ok {
			value, source = v.value, fmt.Sprintf("file %s line %d", c.ConfigFile, v.line)
		}
		if v, ok := lookupEnv(envName(s.name)); ok {
			value, source = v, "env "+envName(s.name)
		}
		if flags[i].isSet {
			value, source = flags[i].value, "flag --"+s.name
		}
		if source != "" {
			sources[s.name] = source
		}
		explicit[s.name] = source != ""
		if err := s.set(&c, value); err != nil {
			if source == "" {
				source = "default"
			}
			if s.secret {
				return Config{}, invalid(s.name, "%v (from %s)", err, source)
			}
			return Config{}, invalid(s.name, "%q: %v (from %s)", value, err, source)
		}
	}
	applyDev(&c, explicit)
	return c, c.validate(sources)
}

// LoadEnviron is Load reading the environment from environ (normally
// os.Environ()); besides Load's checks it refuses a WSE_* variable that
// names no setting, suggesting the nearest one (WSE_PRESENSE → WSE_PRESENCE).
func LoadEnviron(args, environ []string) (Config, error) {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := Load(args, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		return cfg, err
	}
	return cfg, checkEnvNames(env)
}

// fileValue is one setting read from the YAML file, with its line.
type fileValue struct {
	value string
	line  int
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
// may be YAML sequences; they become comma lists. Errors name the file and
// the line.
func readConfigFile(path string) (map[string]fileValue, error) {
	if path == "" {
		return nil, nil
	}
	bad := func(line int, format string, args ...any) error {
		where := path
		if line > 0 {
			where = fmt.Sprintf("%s line %d", path, line)
		}
		return fmt.Errorf("%w: --config %s: %s", ErrInvalidConfig, where, fmt.Sprintf(format, args...))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: --config: %v", ErrInvalidConfig, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
			if isYAMLParserProblem(msg) {
				line++
			}
		}
		return nil, bad(line, "%s", oneLine(msg))
	}
	if len(root.Content) == 0 { // empty file or only comments
		return nil, nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, bad(doc.Line, "the file must be a mapping of setting names to values")
	}
	out := make(map[string]fileValue, len(doc.Content)/2)
	for i := 0; i+1 < len(doc.Content); i += 2 {
		keyNode, node := doc.Content[i], doc.Content[i+1]
		key := keyNode.Value
		j := slices.IndexFunc(settings, func(s setting) bool { return s.name == key })
		if j < 0 {
			return nil, bad(keyNode.Line, "unknown key %q%s", key, DidYouMean(key, settingNames()))
		}
		if _, dup := out[key]; dup {
			return nil, bad(keyNode.Line, "key %q given twice", key)
		}
		switch {
		case node.Kind == yaml.ScalarNode && node.Tag == "!!null":
		case node.Kind == yaml.ScalarNode:
			out[key] = fileValue{node.Value, node.Line}
		case node.Kind == yaml.SequenceNode && settings[j].kind == "list":
			items := make([]string, 0, len(node.Content))
			for _, item := range node.Content {
				if item.Kind != yaml.ScalarNode {
					return nil, bad(item.Line, "%s: list items must be plain values", key)
				}
				items = append(items, item.Value)
			}
			out[key] = fileValue{strings.Join(items, ","), node.Line}
		default:
			return nil, bad(node.Line, "%s: expects a single %s value", key, settings[j].kind)
		}
	}
	return out, nil
}

// yamlLine matches the line number that starts a YAML parser message.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlParserProblems are the messages of yaml.v3's parser (not its
// scanner). yaml.v3 numbers the lines of scanner errors from 1 but those
// of parser errors from 0 (gopkg.in/yaml.v3 decode.go, parser.fail), so a
// parser error's line is one more than its message says.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected <document start>", "did not find expected <stream-start>",
	"did not find expected '-' indicator", "did not find expected key",
	"did not find expected node content", "found duplicate %YAML directive",
	"found duplicate %TAG directive", "found incompatible YAML document",
	"found undefined tag handle",
}

// isYAMLParserProblem reports whether msg is one of yamlParserProblems.
func isYAMLParserProblem(msg string) bool {
	return slices.ContainsFunc(yamlParserProblems, func(p string) bool { return strings.HasPrefix(msg, p) })
}

// oneLine escapes line breaks so that an error message stays on one line.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace

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
	{name: "jwt-algorithm", kind: "HS256|RS256|ES256|EdDSA", def: "HS256", usage: "the only token algorithm accepted: HS256 with --jwt-secret, the others with --jwt-public-key or --jwt-jwks-url",
		set: func(c *Config, v string) error {
			for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
				if strings.EqualFold(strings.TrimSpace(v), alg) {
					c.JWTAlgorithm = alg
					return nil
				}
			}
			return errors.New("must be one of HS256, RS256, ES256, EdDSA")
		},
		check: checkJWTKeys},
	{name: "jwt-public-key", kind: "string", usage: "PEM public key file (PKIX, PKCS#1 or certificate) for RS256, ES256 or EdDSA",
		set: stringVal(func(c *Config) *string { return &c.JWTPublicKey }),
		check: func(c Config) error {
			if c.JWTPublicKey == "" {
				return nil
			}
			if _, err := os.Stat(c.JWTPublicKey); err != nil {
				return fmt.Errorf("%q: %v", c.JWTPublicKey, err)
			}
			return nil
		}},
	{name: "jwt-jwks-url", kind: "string", usage: "JWKS URL of the identity provider: keys by kid, refreshed every 5m and on an unknown kid (at most every 30s), used up to 24h while it is down",
		set:   stringVal(func(c *Config) *string { return &c.JWTJWKSURL }),
		check: checkHookURL(func(c Config) string { return c.JWTJWKSURL })},
	{name: "jwt-key-id", kind: "string", usage: "required kid header of tokens (the previous secret is tried for other kids)",
		set: stringVal(func(c *Config) *string { return &c.JWTKeyID })},
	{name: "auth-first-message", kind: "bool", def: "false", usage: "a client without a token may send it as its first message {\"t\":\"auth\",\"p\":{\"token\":…}} within 5s",
		set: boolVal(func(c *Config) *bool { return &c.AuthFirstMessage }),
		check: func(c Config) error {
			if c.AuthFirstMessage && !c.jwtEnabled() {
				return errors.New("needs --jwt-secret, --jwt-public-key or --jwt-jwks-url")
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
	{name: "broker", kind: "memory|redis|nats", def: "memory", usage: "how nodes share publications: memory (this node or its mesh), redis (shared history and presence) or nats (fan-out only)",
		set:   enumVal(func(c *Config) *string { return &c.Broker }, "memory", "redis", "nats"),
		check: checkBroker},
	{name: "redis-url", kind: "string", def: "redis://127.0.0.1:6379", usage: "Redis of --broker redis (redis://[user:password@]host:port[/db], rediss://, ?master_set= for Sentinel)", secret: true,
		set: stringVal(func(c *Config) *string { return &c.RedisURL })},
	{name: "nats-url", kind: "string", def: "nats://127.0.0.1:4222", usage: "NATS of --broker nats (comma-separated URLs)",
		set: stringVal(func(c *Config) *string { return &c.NATSURL })},
	{name: "broker-prefix", kind: "string", def: "wse", usage: "prefix of the broker's keys and channels, so several clusters can share one Redis or NATS",
		set: stringVal(func(c *Config) *string { return &c.BrokerPrefix })},
	{name: "broker-presence-ttl", kind: "duration", def: "10s", usage: "with --broker redis: a crashed node's presence expires after this (+ 2s sync); at least 3s",
		set: durationVal(func(c *Config) *time.Duration { return &c.BrokerPresenceTTL })},
	{name: "drain-timeout", kind: "duration", def: "30s", usage: "graceful shutdown bound (SIGTERM/SIGINT)",
		set: durationVal(func(c *Config) *time.Duration { return &c.DrainTimeout })},
	{name: "events-buffer-size", kind: "int", def: "10000", usage: "events kept for GET /api/events (oldest discarded)",
		set: intVal(func(c *Config) *int { return &c.EventsBufferSize }, 1, 1<<24)},
	{name: "hook-secret", kind: "string", usage: "key of the HMAC-SHA256 signature on every hook request (X-WSE-Signature); none = unsigned", secret: true,
		set: stringVal(func(c *Config) *string { return &c.HookSecret }),
		check: func(c Config) error {
			if c.HookSecret != "" && len(c.HookSecret) < 16 {
				return fmt.Errorf("must be at least 16 bytes, got %d", len(c.HookSecret))
			}
			return nil
		}},
	{name: "hook-timeout", kind: "duration", def: "3s", usage: "bound of one hook call, waiting for a free slot included",
		set: durationVal(func(c *Config) *time.Duration { return &c.HookTimeout })},
	{name: "hook-concurrency", kind: "int", def: "64", usage: "hook calls in flight per hook (1024 more may wait; beyond, the failure policy applies)",
		set: intVal(func(c *Config) *int { return &c.HookConcurrency }, 1, 1<<16)},
	{name: "hook-connect-url", kind: "string", usage: "connect hook: decides upgrades without a JWT (user id, topics, ACL, or a close code)",
		set: stringVal(func(c *Config) *string { return &c.HookConnectURL }), check: checkHookURL(func(c Config) string { return c.HookConnectURL })},
	{name: "hook-connect-on-failure", kind: "deny|allow", def: "deny", usage: "connect hook backend down: close with 4503 (deny) or let in anonymously (allow)",
		set: enumVal(func(c *Config) *string { return &c.HookConnectOnFailure }, "deny", "allow")},
	{name: "hook-subscribe-url", kind: "string", usage: "subscribe hook: decides client subscriptions the ACL does not grant",
		set: stringVal(func(c *Config) *string { return &c.HookSubscribeURL }), check: checkHookURL(func(c Config) string { return c.HookSubscribeURL })},
	{name: "hook-subscribe-on-failure", kind: "deny|allow", def: "deny", usage: "subscribe hook backend down: refuse (deny) or grant (allow) the topics",
		set: enumVal(func(c *Config) *string { return &c.HookSubscribeOnFailure }, "deny", "allow")},
	{name: "hook-subscribe-cache-ttl", kind: "duration", def: "60s", usage: "reuse a subscribe hook answer per user and topic this long (0 = ask every time)",
		set: durationFrom(func(c *Config) *time.Duration { return &c.HookSubscribeCacheTTL }, true)},
	{name: "hook-publish-url", kind: "string", usage: "publish hook: client messages of --hook-publish-types go here; the answer is published to a topic",
		set: stringVal(func(c *Config) *string { return &c.HookPublishURL }), check: checkHookURL(func(c Config) string { return c.HookPublishURL })},
	{name: "hook-publish-types", kind: "list", usage: "message types (\"t\") sent to the publish hook",
		set: listVal(func(c *Config) *[]string { return &c.HookPublishTypes }),
		check: func(c Config) error {
			if c.HookPublishURL != "" && len(c.HookPublishTypes) == 0 {
				return errors.New("needed with --hook-publish-url")
			}
			return nil
		}},
	{name: "hook-publish-on-failure", kind: "deny|allow", def: "deny", usage: "publish hook backend down: BACKEND_UNAVAILABLE error (deny) or pass the message to /api/events (allow)",
		set: enumVal(func(c *Config) *string { return &c.HookPublishOnFailure }, "deny", "allow")},
	{name: "hook-rpc-url", kind: "string", usage: "rpc hook: client messages of --hook-rpc-types go here; the answer is sent back to the client",
		set: stringVal(func(c *Config) *string { return &c.HookRPCURL }), check: checkHookURL(func(c Config) string { return c.HookRPCURL })},
	{name: "hook-rpc-types", kind: "list", usage: "message types (\"t\") sent to the rpc hook",
		set: listVal(func(c *Config) *[]string { return &c.HookRPCTypes }),
		check: func(c Config) error {
			if c.HookRPCURL != "" && len(c.HookRPCTypes) == 0 {
				return errors.New("needed with --hook-rpc-url")
			}
			for _, t := range c.HookRPCTypes {
				if slices.Contains(c.HookPublishTypes, t) {
					return fmt.Errorf("%q is also in --hook-publish-types", t)
				}
			}
			return nil
		}},
	{name: "hook-rpc-on-failure", kind: "deny|allow", def: "deny", usage: "rpc hook backend down: BACKEND_UNAVAILABLE error (deny) or pass the message to /api/events (allow)",
		set: enumVal(func(c *Config) *string { return &c.HookRPCOnFailure }, "deny", "allow")},
	{name: "hook-disconnect-url", kind: "string", usage: "disconnect webhook: a user's last connection closed and the user did not return within --hook-grace",
		set: stringVal(func(c *Config) *string { return &c.HookDisconnectURL }), check: checkHookURL(func(c Config) string { return c.HookDisconnectURL })},
	{name: "hook-presence-leave-url", kind: "string", usage: "presence_leave webhook: a user left a topic's presence and did not rejoin within --hook-grace",
		set: stringVal(func(c *Config) *string { return &c.HookPresenceLeaveURL }), check: checkHookURL(func(c Config) string { return c.HookPresenceLeaveURL })},
	{name: "hook-grace", kind: "duration", def: "5s", usage: "delay of the disconnect and presence_leave webhooks, cancelled when the user returns (0 = send at once)",
		set: durationFrom(func(c *Config) *time.Duration { return &c.HookGrace }, true)},
	{name: "hook-retries", kind: "int", def: "5", usage: "retries of a failed webhook, with exponential backoff from 500ms (proxies are never retried)",
		set: intVal(func(c *Config) *int { return &c.HookRetries }, 0, 100)},
	{name: "events-buffer-bytes", kind: "size", def: "64MiB", usage: "bytes kept for GET /api/events (oldest discarded)",
		set: size64Val(func(c *Config) *int64 { return &c.EventsBufferBytes }, 1)},
	{name: "events-buffer-before-poll", kind: "bool", def: "false", usage: "buffer events for GET /api/events before it is first polled",
		set: boolVal(func(c *Config) *bool { return &c.EventsBufferBeforePoll })},
	{name: "max-inbound-queue-bytes", kind: "size", def: "64MiB", usage: "engine event queue bytes",
		set: size64Val(func(c *Config) *int64 { return &c.MaxInboundQueueBytes }, 1)},
	{name: "max-total-outbound-bytes", kind: "size", def: "1GiB", usage: "pending outbound bytes of all connections (backed-up ones are closed 4429 over it)",
		set: size64Val(func(c *Config) *int64 { return &c.MaxTotalOutboundBytes }, 1)},
	{name: "max-inbound-buffer-bytes", kind: "size", def: "256MiB", usage: "incomplete client frames and messages held over all connections (over it: 1013)",
		set: size64Val(func(c *Config) *int64 { return &c.MaxInboundBufferBytes }, 1)},
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

// checkHookURL validates a hook URL: empty, or an absolute http(s) URL.
func checkHookURL(get func(Config) string) func(Config) error {
	return func(c Config) error {
		v := get(c)
		if v == "" {
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%q is not an http:// or https:// URL", v)
		}
		return nil
	}
}

// checkJWTKeys checks that the key settings fit --jwt-algorithm.
func checkJWTKeys(c Config) error {
	asym := c.JWTPublicKey != "" || c.JWTJWKSURL != ""
	switch {
	case c.JWTAlgorithm == "HS256" && asym:
		return errors.New("HS256 uses --jwt-secret; --jwt-public-key and --jwt-jwks-url need RS256, ES256 or EdDSA")
	case c.JWTAlgorithm == "HS256":
		return nil
	case c.JWTSecret != "":
		return fmt.Errorf("%s verifies with a public key, not --jwt-secret", c.JWTAlgorithm)
	case !asym:
		return fmt.Errorf("%s needs --jwt-public-key or --jwt-jwks-url", c.JWTAlgorithm)
	case c.JWTPublicKey != "" && c.JWTJWKSURL != "":
		return errors.New("--jwt-public-key and --jwt-jwks-url exclude each other")
	}
	return nil
}
