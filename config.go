package wse

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/wse-go/wse/auth"
	"github.com/wse-go/wse/internal/topic"
)

// Defaults applied by NewServer to zero Config fields.
const (
	DefaultHost                    = "127.0.0.1"
	DefaultPort                    = 5007
	DefaultPath                    = "/wse"
	DefaultMaxConnections          = 10000
	DefaultCookieName              = "access_token"
	DefaultMaxMessageSize          = 1 << 20
	DefaultCompressionThreshold    = 1024
	DefaultPingInterval            = 25 * time.Second
	DefaultIdleTimeout             = 60 * time.Second
	DefaultMaxOutboundQueueBytes   = 16 << 20
	DefaultMaxInboundQueueSize     = 131072
	DefaultMaxInboundQueueBytes    = 64 << 20
	DefaultMaxTotalOutboundBytes   = 1 << 30
	DefaultMaxInboundBufferBytes   = 256 << 20
	DefaultRateLimitCapacity       = 100000
	DefaultRateLimitRefill         = 10000
	DefaultHandshakeTimeout        = 10 * time.Second
	DefaultAuthFirstMessageTimeout = 5 * time.Second
	DefaultMaxPendingHandshakes    = 512
	DefaultCallbackWorkers         = 4
	DefaultPresenceMaxDataSize     = 4096
	DefaultPresenceSyncInterval    = 2 * time.Second
	DefaultRecoveryBufferSize      = 256
	DefaultRecoveryTTL             = 300 * time.Second
	DefaultRecoveryMaxMessages     = 500
	DefaultRecoveryMemoryBudget    = 256 << 20
	// maxPingInterval is the Python client's watchdog: pings must come faster.
	maxPingInterval = 40 * time.Second
)

// SubscriptionPolicy decides what happens to a client's own subscription
// requests (PROTOCOL.md §4).
type SubscriptionPolicy string

// Subscription policies.
const (
	// PolicyACL grants a topic when the connection's allow globs match it and
	// no deny glob does. No allow rule means nothing is granted.
	PolicyACL SubscriptionPolicy = "acl"
	// PolicyApp forwards requests to the application as EventMessage.
	PolicyApp SubscriptionPolicy = "app"
	// PolicyAny grants every syntactically valid topic.
	PolicyAny SubscriptionPolicy = "any"
)

// Config configures a Server. A zero field means the default named in its
// comment; NewServer applies the defaults and rejects invalid values.
type Config struct {
	// Host and Port are the listen address used by Start (default
	// 127.0.0.1:5007). Port -1 picks a free port (see Server.Addr).
	Host string
	Port int
	// Path is the only path where WebSocket upgrades are accepted (default /wse).
	Path string
	// Fallback serves every other request on the listener (default: 404).
	Fallback http.Handler
	// MaxConnections caps open connections; over it the upgrade gets HTTP 503
	// (default 10000).
	MaxConnections int
	// AllowedOrigins lists the browser origins accepted besides the request's
	// own host ("*" = any). Requests without an Origin header always pass.
	AllowedOrigins []string
	// JWT configures handshake authentication; with no secret or public key,
	// connections are not authenticated and produce EventConnect.
	JWT JWTConfig
	// ClientSubscriptions is the policy for client subscription requests
	// (default PolicyACL).
	ClientSubscriptions SubscriptionPolicy
	// ClientTopics are server-wide allow globs for client subscription
	// requests under PolicyACL; "{user_id}" is replaced by the user's id.
	ClientTopics []string
	// MaxSubscriptionsPerConnection caps topics per connection (0 = unlimited).
	MaxSubscriptionsPerConnection int
	// MaxMessageSize is the largest inbound message; bigger closes the
	// connection with 1009 (default 1 MiB).
	MaxMessageSize int64
	// CompressionThreshold is the JSON size above which SendEvent compresses
	// (default 1024; negative disables compression).
	CompressionThreshold int
	// PingInterval is the server ping period (default 25s, must be < 40s and
	// below IdleTimeout).
	PingInterval time.Duration
	// IdleTimeout closes a connection that sent nothing for that long with 4408
	// (default 60s).
	IdleTimeout time.Duration
	// MaxOutboundQueueBytes bounds each connection's pending outbound bytes
	// (default 16 MiB).
	MaxOutboundQueueBytes int
	// MaxInboundBufferBytes bounds the input all connections hold together
	// in incomplete frames and fragmented messages, each at most
	// MaxMessageSize (default 256 MiB). A connection whose buffer would
	// take the total over it is closed with 1013 (try again later), so that
	// clients stalling mid-message cannot make the server hold
	// MaxConnections × MaxMessageSize.
	MaxInboundBufferBytes int64
	// MaxTotalOutboundBytes bounds the pending outbound bytes of all
	// connections together, each connection's share counted in full (a
	// frame fanned out to n connections counts n times; default 1 GiB).
	// Over it, a connection holding more than MaxOutboundQueueBytes/16 that
	// is sent a message is closed with 4429 at once (it reconnects and
	// recovers); connections that keep up are not affected.
	MaxTotalOutboundBytes int64
	// SocketSendBuffer, when positive, fixes each connection's kernel send
	// buffer (SO_SNDBUF) in bytes; 0 leaves it to the kernel's autotuning,
	// which lets a client that stops reading hold up to 4 MiB of kernel
	// memory before MaxOutboundQueueBytes starts counting.
	SocketSendBuffer int
	// WriteDelay holds a connection's output up to this long after the
	// first frame that found its queue empty, so that messages published
	// meanwhile share one write system call: less CPU per delivery when each
	// connection gets messages a few milliseconds apart, for that much added
	// latency. 0 (default) writes at once; at most 1s.
	WriteDelay time.Duration
	// MaxInboundQueueSize bounds the event queue (default 131072).
	MaxInboundQueueSize int
	// MaxInboundQueueBytes bounds the heap bytes held by queued events
	// (Event.Size; default 64 MiB). Over it, or over MaxInboundQueueSize,
	// new events are dropped and counted (InboundDropped).
	MaxInboundQueueBytes int64
	// RateLimitCapacity and RateLimitRefill configure the inbound token bucket
	// per connection, one token per message (defaults 100000 and 10000/s).
	RateLimitCapacity float64
	RateLimitRefill   float64
	// HandshakeTimeout bounds the time from TCP accept to upgrade (default 10s).
	HandshakeTimeout time.Duration
	// MaxPendingHandshakes caps upgrades in progress (default 512).
	MaxPendingHandshakes int
	// CallbackWorkers is the number of goroutines running callbacks set with
	// SetCallbacks; events of one connection always run in order on the same
	// worker (default 4).
	CallbackWorkers int
	// Pollers is the number of epoll goroutines (default 1).
	Pollers int
	// DisableEncryption refuses clients' requests for end-to-end encryption
	// (PROTOCOL §5): server_hello then carries no key and the connection
	// stays in plaintext. By default a client that sends an ECDH public key
	// in client_hello gets every later message sealed with AES-256-GCM.
	DisableEncryption bool
	// Presence configures presence tracking.
	Presence PresenceConfig
	// Recovery configures per-topic message recovery.
	Recovery RecoveryConfig
	// Hooks hand connection, subscription and chosen message decisions to
	// the application (see Hooks); the zero value sets none.
	Hooks Hooks

	// Broker, when set, shares publications, and the recovery history and
	// presence it keeps, with every node on the same broker
	// (docs/scaling.md); the server does not start if it cannot connect.
	// nil (default): this node alone, or its mesh (ConnectCluster), which
	// a Broker excludes.
	Broker Broker
	// ServerVersion is reported in server_hello (default Version).
	ServerVersion string
	// Logger receives the engine's log lines (default: discarded).
	Logger *slog.Logger
}

// JWTConfig configures JWT authentication in the handshake.
type JWTConfig struct {
	// Secret is the HS256 secret (at least 32 bytes). Empty disables auth
	// unless PublicKey is set.
	Secret []byte
	// PreviousSecret is accepted as well, for key rotation.
	PreviousSecret []byte
	// Algorithm is HS256 (default), HS384, HS512, RS256, ES256 or EdDSA.
	Algorithm string
	// PublicKey is the PEM public key for RS256, ES256 and EdDSA.
	PublicKey []byte
	// PreviousPublicKey is accepted as well, for key rotation.
	PreviousPublicKey []byte
	// Issuer and Audience are checked when set.
	Issuer   string
	Audience string
	// KeyID, when set, must equal the token header's kid.
	KeyID string
	// JWKS, for RS256, ES256 and EdDSA, supplies the public keys by the
	// token's kid instead of PublicKey; the caller refreshes it (JWKS.Run).
	JWKS *auth.JWKS
	// CookieName is the cookie that carries the token (default access_token).
	CookieName string
	// AuthFirstMessage lets a client that upgraded without a token send it
	// as its first text frame, {"t":"auth","p":{"token":"…"}} (PROTOCOL §1,
	// for cross-origin browser apps that can set neither cookie nor header).
	// Until it arrives nothing is sent and the application sees nothing.
	AuthFirstMessage bool
	// AuthFirstMessageTimeout is how long such a client has to send it
	// before failing with AUTH_REQUIRED and 4401 (default 5s).
	AuthFirstMessageTimeout time.Duration
}

// enabled reports whether tokens are verified.
func (j JWTConfig) enabled() bool { return len(j.Secret) > 0 || len(j.PublicKey) > 0 || j.JWKS != nil }

// PresenceConfig configures presence tracking.
type PresenceConfig struct {
	// Enabled turns presence on.
	Enabled bool
	// MaxDataSize caps a member's JSON data in bytes (default 4096).
	MaxDataSize int
	// MaxMembers caps users per topic (0 = unlimited).
	MaxMembers int
	// SyncInterval is how often, with a Broker that is a PresenceManager,
	// the other nodes' presence of each topic with local subscribers is
	// re-read, so that a crashed node's members leave (default 2s).
	SyncInterval time.Duration
}

// RecoveryConfig configures message recovery.
type RecoveryConfig struct {
	// Enabled turns recovery on: topic publications are stamped and buffered.
	Enabled bool
	// BufferSize is the number of messages kept per topic, rounded up to a
	// power of two, at least 16 (default 256).
	BufferSize int
	// TTL drops buffers not written for that long (default 300s).
	TTL time.Duration
	// MaxMessages is the largest replay; more missing means not recovered
	// (default 500).
	MaxMessages int
	// MemoryBudget caps the bytes buffered over all topics (default 256 MiB).
	MemoryBudget int64
}

// withDefaults returns c with defaults applied, or an error naming the first
// invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.JWT.AuthFirstMessageTimeout == 0 {
		c.JWT.AuthFirstMessageTimeout = DefaultAuthFirstMessageTimeout
	}
	if c.JWT.CookieName == "" {
		c.JWT.CookieName = DefaultCookieName
	}
	if c.ClientSubscriptions == "" {
		c.ClientSubscriptions = PolicyACL
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.CompressionThreshold == 0 {
		c.CompressionThreshold = DefaultCompressionThreshold
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxOutboundQueueBytes == 0 {
		c.MaxOutboundQueueBytes = DefaultMaxOutboundQueueBytes
	}
	if c.MaxInboundQueueSize == 0 {
		c.MaxInboundQueueSize = DefaultMaxInboundQueueSize
	}
	if c.MaxInboundBufferBytes == 0 {
		c.MaxInboundBufferBytes = DefaultMaxInboundBufferBytes
	}
	if c.MaxTotalOutboundBytes == 0 {
		c.MaxTotalOutboundBytes = DefaultMaxTotalOutboundBytes
	}
	if c.MaxInboundQueueBytes == 0 {
		c.MaxInboundQueueBytes = DefaultMaxInboundQueueBytes
	}
	if c.RateLimitCapacity == 0 {
		c.RateLimitCapacity = DefaultRateLimitCapacity
	}
	if c.RateLimitRefill == 0 {
		c.RateLimitRefill = DefaultRateLimitRefill
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxPendingHandshakes == 0 {
		c.MaxPendingHandshakes = DefaultMaxPendingHandshakes
	}
	if c.CallbackWorkers == 0 {
		c.CallbackWorkers = DefaultCallbackWorkers
	}
	if c.Pollers == 0 {
		c.Pollers = 1
	}
	if c.Presence.MaxDataSize == 0 {
		c.Presence.MaxDataSize = DefaultPresenceMaxDataSize
	}
	if c.Presence.SyncInterval == 0 {
		c.Presence.SyncInterval = DefaultPresenceSyncInterval
	}
	if c.Recovery.BufferSize == 0 {
		c.Recovery.BufferSize = DefaultRecoveryBufferSize
	}
	if c.Recovery.TTL == 0 {
		c.Recovery.TTL = DefaultRecoveryTTL
	}
	if c.Recovery.MaxMessages == 0 {
		c.Recovery.MaxMessages = DefaultRecoveryMaxMessages
	}
	if c.Recovery.MemoryBudget == 0 {
		c.Recovery.MemoryBudget = DefaultRecoveryMemoryBudget
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ServerVersion == "" {
		c.ServerVersion = Version
	}
	return c, c.validate()
}

// validate checks a Config that already has its defaults.
func (c Config) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Port < -1 || c.Port > 65535:
		return bad("Port", "%d is not a port number", c.Port)
	case !strings.HasPrefix(c.Path, "/"):
		return bad("Path", "%q must start with /", c.Path)
	case c.MaxConnections < 0:
		return bad("MaxConnections", "must not be negative")
	case c.MaxMessageSize < 0:
		return bad("MaxMessageSize", "must not be negative")
	case c.PingInterval < 0 || c.PingInterval >= maxPingInterval:
		return bad("PingInterval", "%s must be positive and below %s", c.PingInterval, maxPingInterval)
	case c.IdleTimeout <= c.PingInterval:
		return bad("IdleTimeout", "%s must be longer than PingInterval %s", c.IdleTimeout, c.PingInterval)
	case c.MaxOutboundQueueBytes < 0:
		return bad("MaxOutboundQueueBytes", "must not be negative")
	case c.SocketSendBuffer < 0:
		return bad("SocketSendBuffer", "must not be negative")
	case c.MaxInboundQueueSize < 0:
		return bad("MaxInboundQueueSize", "must not be negative")
	case c.MaxInboundBufferBytes < 0:
		return bad("MaxInboundBufferBytes", "must not be negative")
	case c.MaxTotalOutboundBytes < 0:
		return bad("MaxTotalOutboundBytes", "must not be negative")
	case c.MaxInboundQueueBytes < 0:
		return bad("MaxInboundQueueBytes", "must not be negative")
	case c.RateLimitCapacity < 0 || c.RateLimitRefill < 0:
		return bad("RateLimitCapacity", "capacity and refill must not be negative")
	case c.HandshakeTimeout < 0:
		return bad("HandshakeTimeout", "must not be negative")
	case c.JWT.AuthFirstMessageTimeout < 0:
		return bad("JWT.AuthFirstMessageTimeout", "must not be negative")
	case c.JWT.AuthFirstMessage && !c.JWT.enabled():
		return bad("JWT.AuthFirstMessage", "needs JWT.Secret or JWT.PublicKey")
	case c.MaxPendingHandshakes < 0:
		return bad("MaxPendingHandshakes", "must not be negative")
	case c.CallbackWorkers < 0 || c.Pollers < 0:
		return bad("Pollers", "worker counts must not be negative")
	case c.MaxSubscriptionsPerConnection < 0:
		return bad("MaxSubscriptionsPerConnection", "must not be negative")
	case c.Presence.MaxDataSize < 0 || c.Presence.MaxMembers < 0 || c.Presence.SyncInterval < 0:
		return bad("Presence", "limits must not be negative")
	case c.Recovery.BufferSize < 0 || c.Recovery.TTL < 0 || c.Recovery.MaxMessages < 0 || c.Recovery.MemoryBudget < 0:
		return bad("Recovery", "sizes must not be negative")
	}
	switch c.ClientSubscriptions {
	case PolicyACL, PolicyApp, PolicyAny:
	default:
		return bad("ClientSubscriptions", "%q is not acl, app or any", c.ClientSubscriptions)
	}
	for _, p := range c.ClientTopics {
		if err := topic.Validate(topic.Expand(p, "u")); err != nil {
			return bad("ClientTopics", "%q: %v", p, err)
		}
	}
	return nil
}
