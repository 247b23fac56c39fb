package server

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wse-go/wse"
	"github.com/wse-go/wse/hooks"
	"github.com/wse-go/wse/internal/topic"
)

// Config is the configuration of a standalone server: every field is one
// setting (see Settings for its flag, environment variable and default).
// DefaultConfig returns it with every default; Load builds it from flags,
// the environment and an optional YAML file.
type Config struct {
	// ConfigFile is the YAML file the other settings were read from ("" = none).
	ConfigFile string

	// Host and Port are the WebSocket listener (port 0 picks a free port);
	// Path is the upgrade path.
	Host string
	Port int
	Path string
	// APIAddr is the control API listener (host:port); APIKey, when set, is
	// required as "Authorization: Bearer <key>" and is mandatory when
	// APIAddr is not a loopback address.
	APIAddr string
	APIKey  string

	// MaxConnections caps open connections.
	MaxConnections int
	// JWT settings; no secret means no authentication.
	JWTSecret         string
	JWTPreviousSecret string
	JWTIssuer         string
	JWTAudience       string
	JWTCookieName     string
	// JWTAlgorithm is HS256 (with JWTSecret), RS256, ES256 or EdDSA (with
	// JWTPublicKey, a PEM file, or JWTJWKSURL); JWTKeyID is the required kid.
	JWTAlgorithm string
	JWTPublicKey string
	JWTJWKSURL   string
	JWTKeyID     string
	// AuthFirstMessage accepts the token as the client's first message.
	AuthFirstMessage bool
	// AllowedOrigins are browser origins accepted besides the same host.
	AllowedOrigins []string

	// ClientSubscriptions is acl, app or any (PROTOCOL.md §4).
	ClientSubscriptions string
	// ClientTopics are globs clients may subscribe to under acl.
	ClientTopics []string
	// SubscribeOnConnect are topic templates every new connection is
	// subscribed to; "{user_id}" is replaced by the JWT subject.
	SubscribeOnConnect []string
	// MaxSubscriptionsPerConnection caps topics per connection (0 = no cap).
	MaxSubscriptionsPerConnection int

	// Presence settings.
	Presence            bool
	PresenceMaxDataSize int
	PresenceMaxMembers  int
	// Recovery settings.
	Recovery             bool
	RecoveryBufferSize   int
	RecoveryTTL          time.Duration
	RecoveryMaxMessages  int
	RecoveryMemoryBudget int64

	// WriteDelay holds each connection's output to coalesce writes.
	WriteDelay time.Duration
	// Encryption lets clients negotiate end-to-end encryption in
	// client_hello (PROTOCOL.md §5).
	Encryption bool

	// MaxMessageSize is the largest inbound message in bytes.
	MaxMessageSize int64
	// CompressionThreshold is the event size above which send_event
	// compresses (0 = never).
	CompressionThreshold  int
	PingInterval          time.Duration
	IdleTimeout           time.Duration
	MaxOutboundQueueBytes int
	SocketSendBuffer      int
	MaxInboundQueueSize   int
	RateLimitCapacity     float64
	RateLimitRefill       float64

	// Cluster settings: a non-zero ClusterPort joins the mesh (see
	// docs/cluster.md).
	ClusterPort int
	ClusterAddr string
	Peers       []string
	Seeds       []string
	TLSCA       string
	TLSCert     string
	TLSKey      string

	// Broker settings: Broker is memory (this node, or its mesh), redis or
	// nats (see docs/scaling.md).
	Broker            string
	RedisURL          string
	NATSURL           string
	BrokerPrefix      string
	BrokerPresenceTTL time.Duration

	// DrainTimeout bounds the graceful shutdown.
	DrainTimeout time.Duration
	// EventsBufferSize bounds the event buffer behind GET /api/events.
	EventsBufferSize int
	// EventsBufferBytes bounds the bytes held by that buffer.
	EventsBufferBytes int64
	// EventsBufferBeforePoll keeps events before GET /api/events is first
	// polled; by default nothing is buffered until then.
	EventsBufferBeforePoll bool
	// MaxInboundQueueBytes bounds the bytes of the engine's event queue.
	MaxInboundQueueBytes int64
	// MaxTotalOutboundBytes bounds the pending outbound bytes of all
	// connections together.
	MaxTotalOutboundBytes int64
	// MaxInboundBufferBytes bounds the incomplete input of all connections
	// together.
	MaxInboundBufferBytes int64
	// Demo serves the demo page at / on the WebSocket listener.
	Demo bool
	// Dev is development mode for the demo page: clients may subscribe to
	// DemoTopics (added to ClientTopics under the acl policy), the server
	// relays the demo chat's messages, and Load defaults Presence and
	// Recovery to on. DevAuto reports that Load turned Dev on because the
	// server was started with no configuration.
	Dev     bool
	DevAuto bool
	// Pprof serves net/http/pprof at /debug/pprof/ on the control API.
	Pprof bool
	// LogLevel and LogFormat (text or json) configure Logger.
	LogLevel  slog.Level
	LogFormat string

	// Hooks are the backend hooks (docs/hooks.md): the secret that signs
	// their requests, one URL per hook, and their limits.
	HookSecret             string
	HookTimeout            time.Duration
	HookConcurrency        int
	HookConnectURL         string
	HookConnectOnFailure   string
	HookSubscribeURL       string
	HookSubscribeOnFailure string
	HookSubscribeCacheTTL  time.Duration
	HookPublishURL         string
	HookPublishTypes       []string
	HookPublishOnFailure   string
	HookRPCURL             string
	HookRPCTypes           []string
	HookRPCOnFailure       string
	HookDisconnectURL      string
	HookPresenceLeaveURL   string
	HookGrace              time.Duration
	HookRetries            int
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	var c Config
	for _, s := range settings {
		if err := s.set(&c, s.def); err != nil {
			panic("server: bad default for --" + s.name + ": " + err.Error())
		}
	}
	return c
}

// invalid returns an error wrapping ErrInvalidConfig that names a setting.
func invalid(name, format string, args ...any) error {
	return fmt.Errorf("%w: --%s: %s", ErrInvalidConfig, name, fmt.Sprintf(format, args...))
}

// Validate checks the settings that depend on each other or on the
// environment; it returns an error wrapping ErrInvalidConfig that names the
// first bad setting.
func (c Config) Validate() error { return c.validate(nil) }

// validate is Validate naming, after a failing setting, where its value came
// from (sources maps a setting name to "flag --x", "env WSE_X" or "file f
// line n"; a setting absent from it has its default).
func (c Config) validate(sources map[string]string) error {
	for _, s := range settings {
		if s.check == nil {
			continue
		}
		if err := s.check(c); err != nil {
			if src, ok := sources[s.name]; ok {
				return fmt.Errorf("%w: --%s: %w (from %s)", ErrInvalidConfig, s.name, err, src)
			}
			return fmt.Errorf("%w: --%s: %w", ErrInvalidConfig, s.name, err)
		}
	}
	return nil
}

// checkHostPort validates a host:port address.
func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", addr)
	}
	return nil
}

// isLoopback reports whether the host of addr is a loopback address or
// "localhost". An empty host (all interfaces) is not.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTopics validates topic templates after expanding {user_id}.
func checkTopics(list []string) error {
	for _, t := range list {
		if err := topic.Validate(topic.Expand(t, "u")); err != nil {
			return fmt.Errorf("%q: %v", t, err)
		}
	}
	return nil
}

// checkTLS validates the cluster TLS files: all three or none, readable.
func checkTLS(c Config) error {
	set := 0
	for _, f := range []string{c.TLSCA, c.TLSCert, c.TLSKey} {
		if f != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return fmt.Errorf("--tls-ca, --tls-cert and --tls-key go together")
	}
	for _, f := range []string{c.TLSCA, c.TLSCert, c.TLSKey} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("%q: %v", f, err)
		}
	}
	return nil
}

// Logger returns the logger described by LogLevel and LogFormat, writing to
// w (os.Stderr when nil).
func (c Config) Logger(w io.Writer) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		// Durations as "1.5s", as the text format writes them, not as
		// integer nanoseconds.
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				a.Value = slog.StringValue(a.Value.Duration().String())
			}
			return a
		}
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// engineConfig translates c into the engine's Config.
func (c Config) engineConfig() wse.Config {
	port := c.Port
	if port == 0 {
		port = -1 // the engine's "free port"
	}
	threshold := c.CompressionThreshold
	if threshold == 0 {
		threshold = -1 // the engine's "never"
	}
	return wse.Config{
		Host:           c.Host,
		Port:           port,
		Path:           c.Path,
		MaxConnections: c.MaxConnections,
		AllowedOrigins: c.AllowedOrigins,
		JWT: wse.JWTConfig{
			Secret:           []byte(c.JWTSecret),
			PreviousSecret:   []byte(c.JWTPreviousSecret),
			Algorithm:        c.JWTAlgorithm,
			KeyID:            c.JWTKeyID,
			Issuer:           c.JWTIssuer,
			Audience:         c.JWTAudience,
			CookieName:       c.JWTCookieName,
			AuthFirstMessage: c.AuthFirstMessage,
		},
		ClientSubscriptions:           wse.SubscriptionPolicy(c.ClientSubscriptions),
		ClientTopics:                  c.clientTopics(),
		MaxSubscriptionsPerConnection: c.MaxSubscriptionsPerConnection,
		MaxMessageSize:                c.MaxMessageSize,
		DisableEncryption:             !c.Encryption,
		CompressionThreshold:          threshold,
		PingInterval:                  c.PingInterval,
		IdleTimeout:                   c.IdleTimeout,
		MaxOutboundQueueBytes:         c.MaxOutboundQueueBytes,
		MaxTotalOutboundBytes:         c.MaxTotalOutboundBytes,
		MaxInboundBufferBytes:         c.MaxInboundBufferBytes,
		SocketSendBuffer:              c.SocketSendBuffer,
		WriteDelay:                    c.WriteDelay,
		MaxInboundQueueSize:           c.MaxInboundQueueSize,
		MaxInboundQueueBytes:          c.MaxInboundQueueBytes,
		RateLimitCapacity:             c.RateLimitCapacity,
		RateLimitRefill:               c.RateLimitRefill,
		Presence: wse.PresenceConfig{
			Enabled:     c.Presence,
			MaxDataSize: c.PresenceMaxDataSize,
			MaxMembers:  c.PresenceMaxMembers,
		},
		Recovery: wse.RecoveryConfig{
			Enabled:      c.Recovery,
			BufferSize:   c.RecoveryBufferSize,
			TTL:          c.RecoveryTTL,
			MaxMessages:  c.RecoveryMaxMessages,
			MemoryBudget: c.RecoveryMemoryBudget,
		},
	}
}

// hooksConfig translates the hook settings into the hooks package's Config.
func (c Config) hooksConfig(log *slog.Logger) hooks.Config {
	cacheTTL := c.HookSubscribeCacheTTL
	if cacheTTL == 0 {
		cacheTTL = -1 // the package's "no cache"
	}
	grace := c.HookGrace
	if grace == 0 {
		grace = -1 // the package's "at once"
	}
	retries := c.HookRetries
	if retries == 0 {
		retries = -1 // the package's "none"
	}
	return hooks.Config{
		Secret:            []byte(c.HookSecret),
		Timeout:           c.HookTimeout,
		Concurrency:       c.HookConcurrency,
		Connect:           hooks.Endpoint{URL: c.HookConnectURL, OnFailure: hooks.Policy(c.HookConnectOnFailure)},
		Subscribe:         hooks.Endpoint{URL: c.HookSubscribeURL, OnFailure: hooks.Policy(c.HookSubscribeOnFailure)},
		SubscribeCacheTTL: cacheTTL,
		Publish:           hooks.Endpoint{URL: c.HookPublishURL, OnFailure: hooks.Policy(c.HookPublishOnFailure)},
		PublishTypes:      c.HookPublishTypes,
		RPC:               hooks.Endpoint{URL: c.HookRPCURL, OnFailure: hooks.Policy(c.HookRPCOnFailure)},
		RPCTypes:          c.HookRPCTypes,
		Disconnect:        hooks.Endpoint{URL: c.HookDisconnectURL},
		PresenceLeave:     hooks.Endpoint{URL: c.HookPresenceLeaveURL},
		Grace:             grace,
		Retries:           retries,
		Logger:            log,
	}
}

// jwtEnabled reports whether connections are authenticated with JWTs.
func (c Config) jwtEnabled() bool {
	return c.JWTSecret != "" || c.JWTPublicKey != "" || c.JWTJWKSURL != ""
}
