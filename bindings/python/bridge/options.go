package bridge

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/wse-go/wse"
)

// Options are the keyword arguments of WSEServer(host, port, **options),
// under their Python names. The Python side sends every keyword with its
// value (its defaults applied); byte strings arrive base64-encoded, which
// is what encoding/json does for []byte.
type Options struct {
	Host                          string  `json:"host"`
	Port                          int     `json:"port"`
	MaxConnections                int     `json:"max_connections"`
	JWTSecret                     []byte  `json:"jwt_secret"`
	JWTIssuer                     string  `json:"jwt_issuer"`
	JWTAudience                   string  `json:"jwt_audience"`
	JWTCookieName                 string  `json:"jwt_cookie_name"`
	JWTPreviousSecret             []byte  `json:"jwt_previous_secret"`
	JWTKeyID                      string  `json:"jwt_key_id"`
	JWTAlgorithm                  string  `json:"jwt_algorithm"`
	JWTPrivateKey                 []byte  `json:"jwt_private_key"`
	MaxInboundQueueSize           int     `json:"max_inbound_queue_size"`
	RecoveryEnabled               bool    `json:"recovery_enabled"`
	RecoveryBufferSize            int     `json:"recovery_buffer_size"`
	RecoveryTTL                   float64 `json:"recovery_ttl"`
	RecoveryMaxMessages           int     `json:"recovery_max_messages"`
	RecoveryMemoryBudget          int64   `json:"recovery_memory_budget"`
	PresenceEnabled               bool    `json:"presence_enabled"`
	PresenceMaxDataSize           int     `json:"presence_max_data_size"`
	PresenceMaxMembers            int     `json:"presence_max_members"`
	RateLimitCapacity             float64 `json:"rate_limit_capacity"`
	RateLimitRefill               float64 `json:"rate_limit_refill"`
	MaxMessageSize                int64   `json:"max_message_size"`
	PingInterval                  float64 `json:"ping_interval"`
	IdleTimeout                   float64 `json:"idle_timeout"`
	MaxOutboundQueueBytes         int     `json:"max_outbound_queue_bytes"`
	MaxSubscriptionsPerConnection int     `json:"max_subscriptions_per_connection"`
}

// ConfigError is a bad keyword argument: the Python side raises ValueError
// with this message, which starts with the keyword's name.
type ConfigError struct {
	Keyword string
	Reason  string
}

func (e *ConfigError) Error() string { return e.Keyword + ": " + e.Reason }

// goFieldKeywords maps the Config field named in a wse.ErrInvalidConfig
// message to the keyword that sets it.
var goFieldKeywords = map[string]string{
	"Port":                          "port",
	"MaxConnections":                "max_connections",
	"MaxMessageSize":                "max_message_size",
	"PingInterval":                  "ping_interval",
	"IdleTimeout":                   "idle_timeout",
	"MaxOutboundQueueBytes":         "max_outbound_queue_bytes",
	"MaxInboundQueueSize":           "max_inbound_queue_size",
	"RateLimitCapacity":             "rate_limit_capacity",
	"MaxSubscriptionsPerConnection": "max_subscriptions_per_connection",
	"Presence":                      "presence_max_data_size",
	"Recovery":                      "recovery_buffer_size",
	"JWT":                           "jwt_secret",
}

// maxPingInterval is the engine's bound on ping_interval: the Python
// client's watchdog closes a connection that heard nothing for 40 s.
const maxPingInterval = 40.0

// Config checks the options and turns them into the engine's Config.
// Every error is a *ConfigError naming the keyword.
func (o Options) Config() (wse.Config, error) {
	bad := func(kw, format string, args ...any) (wse.Config, error) {
		return wse.Config{}, &ConfigError{Keyword: kw, Reason: fmt.Sprintf(format, args...)}
	}
	alg := strings.ToUpper(o.JWTAlgorithm)
	switch alg {
	case "":
		alg = "HS256"
	case "EDDSA":
		alg = "EdDSA"
	}
	hmac := strings.HasPrefix(alg, "HS")
	switch {
	case o.Host == "":
		return bad("host", "must not be empty")
	case o.Port < 0 || o.Port > 65535:
		return bad("port", "%d is not a port number (0 picks a free one)", o.Port)
	case o.MaxConnections <= 0:
		return bad("max_connections", "must be positive, got %d", o.MaxConnections)
	case o.MaxInboundQueueSize <= 0:
		return bad("max_inbound_queue_size", "must be positive, got %d", o.MaxInboundQueueSize)
	case !validAlgorithm(alg):
		return bad("jwt_algorithm", "%q is not HS256, HS384, HS512, RS256, ES256 or EdDSA", o.JWTAlgorithm)
	case hmac && len(o.JWTSecret) > 0 && len(o.JWTSecret) < 32:
		return bad("jwt_secret", "an %s secret needs at least 32 bytes, got %d", alg, len(o.JWTSecret))
	case hmac && len(o.JWTPreviousSecret) > 0 && len(o.JWTPreviousSecret) < 32:
		return bad("jwt_previous_secret", "an %s secret needs at least 32 bytes, got %d", alg, len(o.JWTPreviousSecret))
	case len(o.JWTSecret) == 0 && len(o.JWTPreviousSecret) > 0:
		return bad("jwt_previous_secret", "needs jwt_secret")
	case o.RecoveryBufferSize <= 0 || o.RecoveryBufferSize&(o.RecoveryBufferSize-1) != 0:
		return bad("recovery_buffer_size", "must be a power of two, got %d", o.RecoveryBufferSize)
	case !(o.RecoveryTTL > 0) || math.IsInf(o.RecoveryTTL, 0):
		return bad("recovery_ttl", "must be a positive number of seconds, got %v", o.RecoveryTTL)
	case o.RecoveryMaxMessages <= 0:
		return bad("recovery_max_messages", "must be positive, got %d", o.RecoveryMaxMessages)
	case o.RecoveryMemoryBudget <= 0:
		return bad("recovery_memory_budget", "must be positive, got %d", o.RecoveryMemoryBudget)
	case o.PresenceMaxDataSize <= 0:
		return bad("presence_max_data_size", "must be positive, got %d", o.PresenceMaxDataSize)
	case o.PresenceMaxMembers < 0:
		return bad("presence_max_members", "must not be negative (0 = unlimited), got %d", o.PresenceMaxMembers)
	case !(o.RateLimitCapacity > 0) || math.IsInf(o.RateLimitCapacity, 0):
		return bad("rate_limit_capacity", "must be a positive number, got %v", o.RateLimitCapacity)
	case !(o.RateLimitRefill > 0) || math.IsInf(o.RateLimitRefill, 0):
		return bad("rate_limit_refill", "must be a positive number, got %v", o.RateLimitRefill)
	case o.MaxMessageSize <= 0:
		return bad("max_message_size", "must be positive, got %d", o.MaxMessageSize)
	case !(o.PingInterval > 0) || o.PingInterval >= maxPingInterval:
		return bad("ping_interval", "must be above 0 and below %v seconds, got %v", maxPingInterval, o.PingInterval)
	case !(o.IdleTimeout > o.PingInterval) || math.IsInf(o.IdleTimeout, 0):
		return bad("ping_interval", "%v must be below idle_timeout %v", o.PingInterval, o.IdleTimeout)
	case o.MaxOutboundQueueBytes < 0:
		return bad("max_outbound_queue_bytes", "must not be negative, got %d", o.MaxOutboundQueueBytes)
	case o.MaxSubscriptionsPerConnection < 0:
		return bad("max_subscriptions_per_connection", "must not be negative (0 = unlimited), got %d", o.MaxSubscriptionsPerConnection)
	}
	if len(o.JWTPrivateKey) > 0 {
		if err := checkPrivateKey(o.JWTPrivateKey); err != nil {
			return bad("jwt_private_key", "%v", err)
		}
	}
	port := o.Port
	if port == 0 {
		port = -1 // the engine's "pick a free port"
	}
	cfg := wse.Config{
		Host:           o.Host,
		Port:           port,
		MaxConnections: o.MaxConnections,
		// The original checks no Origin (its docs leave that to the proxy);
		// pages served from another port or host must keep working.
		AllowedOrigins: []string{"*"},
		JWT: wse.JWTConfig{
			Algorithm:  alg,
			Issuer:     o.JWTIssuer,
			Audience:   o.JWTAudience,
			KeyID:      o.JWTKeyID,
			CookieName: o.JWTCookieName,
		},
		// The original hands every client message to the application,
		// subscription requests included.
		ClientSubscriptions:           wse.PolicyApp,
		MaxSubscriptionsPerConnection: o.MaxSubscriptionsPerConnection,
		MaxMessageSize:                o.MaxMessageSize,
		PingInterval:                  seconds(o.PingInterval),
		IdleTimeout:                   seconds(o.IdleTimeout),
		MaxOutboundQueueBytes:         o.MaxOutboundQueueBytes, // 0 = the engine's 16 MiB bound
		MaxInboundQueueSize:           o.MaxInboundQueueSize,
		RateLimitCapacity:             o.RateLimitCapacity,
		RateLimitRefill:               o.RateLimitRefill,
		Presence: wse.PresenceConfig{
			Enabled:     o.PresenceEnabled,
			MaxDataSize: o.PresenceMaxDataSize,
			MaxMembers:  o.PresenceMaxMembers,
		},
		Recovery: wse.RecoveryConfig{
			Enabled:      o.RecoveryEnabled,
			BufferSize:   o.RecoveryBufferSize,
			TTL:          seconds(o.RecoveryTTL),
			MaxMessages:  o.RecoveryMaxMessages,
			MemoryBudget: o.RecoveryMemoryBudget,
		},
	}
	if hmac {
		cfg.JWT.Secret, cfg.JWT.PreviousSecret = o.JWTSecret, o.JWTPreviousSecret
	} else {
		cfg.JWT.PublicKey, cfg.JWT.PreviousPublicKey = o.JWTSecret, o.JWTPreviousSecret
	}
	return cfg, nil
}

// newServer builds the engine for o. Besides the configured path, every
// other path upgrades too, as with the original (which ignores the path).
func newServer(o Options) (*wse.Server, error) {
	cfg, err := o.Config()
	if err != nil {
		return nil, err
	}
	var srv *wse.Server
	cfg.Fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = srv.Config().Path
		srv.ServeHTTP(w, r2)
	})
	srv, err = wse.NewServer(cfg)
	if err != nil {
		return nil, keywordError(err)
	}
	return srv, nil
}

// keywordError turns a wse.ErrInvalidConfig error ("wse: invalid config:
// Field: reason") into a *ConfigError naming the keyword of Field.
func keywordError(err error) error {
	if !errors.Is(err, wse.ErrInvalidConfig) {
		return err
	}
	rest := strings.TrimPrefix(err.Error(), wse.ErrInvalidConfig.Error()+": ")
	field, reason, _ := strings.Cut(rest, ": ")
	if i := strings.IndexByte(field, '.'); i >= 0 {
		field = field[:i]
	}
	kw, ok := goFieldKeywords[field]
	if !ok {
		kw, reason = "options", rest
	}
	return &ConfigError{Keyword: kw, Reason: reason}
}

func validAlgorithm(alg string) bool {
	switch alg {
	case "HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA":
		return true
	}
	return false
}

// checkPrivateKey checks that pemKey is a PEM private key; like the
// original, the key is not kept.
func checkPrivateKey(pemKey []byte) error {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return errors.New("not a PEM block")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return nil
	}
	return fmt.Errorf("PEM block %q is not a PKCS#8, PKCS#1 or SEC 1 private key", block.Type)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
